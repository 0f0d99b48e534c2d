--- :checkhealth fusion_ls — is the server there, which version, which settings it will use.
local M = {}

local TIMEOUT_MS = 30000 -- generous: a loaded CI machine starts Python slowly

--- Starts the server command with other arguments, in the current directory.
---@param cmd string[]
---@param args string[]
---@return vim.SystemObj
local function spawn(cmd, args)
  local argv = vim.list_extend(vim.list_slice(cmd), args)
  return vim.system(argv, { text = true, cwd = vim.fn.getcwd() })
end

--- Waits for a command started by spawn(); returns its exit code and output.
---@param process vim.SystemObj
---@return integer code
---@return string output
local function finish(process)
  local done = process:wait(TIMEOUT_MS)
  return done.code, vim.trim((done.stdout or '') .. (done.stderr or ''))
end

function M.check()
  vim.health.start('fusion-ls server')
  local cmd = require('fusion_ls').server_cmd()
  if type(cmd) ~= 'table' or not cmd[1] then
    vim.health.warn('the fusion_ls cmd is not a list of strings; cannot check it')
    return
  end
  local shown = table.concat(cmd, ' ')
  if vim.fn.executable(cmd[1]) == 0 then
    vim.health.error(('`%s` not found'):format(cmd[1]), {
      'install it: `pip install fusion-ls`, or `make` in its repository for `.venv/bin/fusion-ls`',
      "or point to it: require('fusion_ls').setup({ cmd = { '/path/to/fusion-ls' } })",
      "or, on 0.11: vim.lsp.config('fusion_ls', { cmd = { '/path/to/fusion-ls' } })",
    })
    return
  end
  vim.health.ok(('`%s` found: %s'):format(shown, vim.fn.exepath(cmd[1])))

  -- Both at once: each is a Python start-up.
  local version_check, config_check = spawn(cmd, { '--version' }), spawn(cmd, { 'config', 'check' })
  local code, version = finish(version_check)
  if code == 0 then
    vim.health.ok('version: ' .. version)
  else
    vim.health.error(('`%s --version` failed (exit %d):\n%s'):format(shown, code, version))
  end

  local clients = vim.lsp.get_clients({ name = 'fusion_ls' })
  if #clients == 0 then
    vim.health.info(
      "not running: it starts on opening a file after vim.lsp.enable('fusion_ls') or setup()"
    )
  end
  for _, client in ipairs(clients) do
    vim.health.info(('running (client %d) in %s'):format(client.id, client.root_dir or '(no root)'))
  end

  vim.health.start('fusion-ls settings for ' .. vim.fn.getcwd())
  local status, settings = finish(config_check)
  if status == 0 then
    vim.health.ok('`fusion-ls config check`:\n' .. settings)
  else
    vim.health.error(('`fusion-ls config check` failed (exit %d):\n%s'):format(status, settings))
  end
end

return M
