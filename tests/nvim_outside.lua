-- Files of no project in the fusion-ls Neovim plugin, for tests/test_neovim.py.
--
--   nvim --headless --clean -u INIT -l nvim_outside.lua RESULT.json FILE LONE STRAY [checkhealth]
--
-- LONE and STRAY are files with no .fusion.toml or .git above them; FILE is a project's. LONE
-- opens first, when no fusion-ls client runs, then FILE, then STRAY; each is reviewed whole
-- (:FusionReviewFile). For each, RESULT.json gets the client it joined (id, root) and what its
-- review notified, and after FILE's, what :FusionReviewChanges notified; then, when asked, :checkhealth fusion_ls run from STRAY. It asserts nothing:
-- the Python test does.
local result_path, file, lone, stray = arg[1], arg[2], arg[3], arg[4]
local checkhealth = arg[5] == 'checkhealth'
local wait = dofile(vim.fs.joinpath(vim.fs.dirname(debug.getinfo(1, 'S').source:sub(2)), 'nvim_shared.lua'))
local wait_for = wait.wait_for
local result = {}
local notes = {}

vim.notify = function(message, level)
  table.insert(notes, { message = message, level = level })
end


--- Opens `path`, waits for its client and reviews it whole: the client and what was said.
---@param path string
local function open_and_review(path)
  vim.cmd.edit(vim.fn.fnameescape(path))
  local bufnr = vim.api.nvim_get_current_buf()
  local client ---@type vim.lsp.Client
  wait_for('the fusion_ls client of ' .. path, function()
    client = vim.lsp.get_clients({ bufnr = bufnr, name = 'fusion_ls' })[1]
    return client ~= nil and client.initialized == true
  end)
  notes = {}
  vim.cmd('FusionReviewFile')
  -- The server says how it ended (an error, or the progress's end) before it answers.
  wait_for('the review of ' .. path, function()
    return not wait.commands_running({ client }) and #notes > 0
  end)
  return { id = client.id, root_dir = client.root_dir or vim.NIL, notes = notes }
end

local function run()
  result.lone = open_and_review(lone)
  result.project = open_and_review(file)
  notes = {}
  vim.cmd('FusionReviewChanges') -- from the project's file: its client, not the first one
  wait.wait_for_commands(vim.lsp.get_clients({ name = 'fusion_ls' }))
  result.changes = notes
  result.stray = open_and_review(stray)
  if checkhealth then
    vim.cmd('checkhealth fusion_ls')
    result.health = vim.api.nvim_buf_get_lines(0, 0, -1, false)
  end
  for _, client in ipairs(vim.lsp.get_clients({ name = 'fusion_ls' })) do
    client:stop()
  end
  wait_for('the servers to stop', function()
    return #vim.lsp.get_clients({ name = 'fusion_ls' }) == 0
  end)
end

wait.run_and_write(run, result, result_path)
