-- What the Neovim test drivers (nvim_driver.lua, nvim_outside.lua) share: waiting, and writing
-- what they saw. They load it with dofile(): they are scripts run by `nvim -l`, not modules on
-- 'runtimepath'.
local M = {}

M.TIMEOUT_MS = 15000

--- Waits until `condition()` holds, else raises an error that names `what`.
---@param what string
---@param condition fun(): boolean
function M.wait_for(what, condition)
  if not vim.wait(M.TIMEOUT_MS, condition, 10) then
    error('timed out waiting for ' .. what, 2)
  end
end

--- Whether any of `clients` has a `workspace/executeCommand` request in flight.
---@param clients vim.lsp.Client[]
---@return boolean
function M.commands_running(clients)
  for _, client in ipairs(clients) do
    for _, pending in pairs(client.requests) do
      if pending.method == 'workspace/executeCommand' then
        return true
      end
    end
  end
  return false
end

--- Waits until none of `clients` has a `workspace/executeCommand` request in flight.
---@param clients vim.lsp.Client[]
function M.wait_for_commands(clients)
  M.wait_for('the commands to finish', function()
    return not M.commands_running(clients)
  end)
end

--- Runs `run`, then writes `result` as JSON to `path` with the error `run` raised, if any, and
--- Neovim's messages (where it reports an error raised in an LSP callback, "Error
--- SERVER_RESULT_CALLBACK_ERROR"). The Python test asserts; the driver never does.
---@param run fun()
---@param result table
---@param path string
function M.run_and_write(run, result, path)
  local ok, err = xpcall(run, debug.traceback)
  result.error = not ok and err or nil
  result.messages = vim.api.nvim_exec2('messages', { output = true }).output
  vim.fn.writefile({ vim.json.encode(result) }, path)
end

return M
