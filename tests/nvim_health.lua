-- Runs :checkhealth fusion_ls from a file buffer, for tests/test_neovim.py.
--
--   nvim --headless --clean -u INIT -l nvim_health.lua RESULT.json FILE
--
-- Writes the report's lines to RESULT.json as `health` (or the error as `error`).
local result_path, file = arg[1], arg[2]
local result = {}
local ok, err = pcall(function()
  vim.cmd.edit(vim.fn.fnameescape(file))
  vim.cmd('checkhealth fusion_ls')
  result.health = vim.api.nvim_buf_get_lines(0, 0, -1, false)
end)
result.error = not ok and err or nil
result.messages = vim.api.nvim_exec2('messages', { output = true }).output
vim.fn.writefile({ vim.json.encode(result) }, result_path)
