--- :checkhealth fusion_ls — is the server there, which version, and which settings it will use
--- for the buffer you ran it from (its project's .fusion.toml, not the current directory's).
local M = {}

local TIMEOUT_MS = 30000 -- generous: a loaded CI machine starts Python slowly

--- Starts the server command with other arguments, in `cwd`.
---@param cmd string[]
---@param args string[]
---@param cwd string
---@return vim.SystemObj
local function spawn(cmd, args, cwd)
  local argv = vim.list_extend(vim.list_slice(cmd), args)
  return vim.system(argv, { text = true, cwd = cwd })
end

--- Waits for a command started by spawn(); returns its exit code and output.
---@param process vim.SystemObj
---@return integer code
---@return string output
local function finish(process)
  local done = process:wait(TIMEOUT_MS)
  return done.code, vim.trim((done.stdout or '') .. (done.stderr or ''))
end

--- The fusion-ls checkout this plugin is part of (it lives in editors/neovim), or nil when the
--- plugin was copied elsewhere: the install advice names it, since fusion-ls is not on PyPI.
---@return string?
local function checkout()
  local here = debug.getinfo(1, 'S').source:sub(2) -- …/editors/neovim/lua/fusion_ls/health.lua
  local root = vim.fs.normalize(vim.fn.fnamemodify(here, ':p:h:h:h:h:h'))
  return vim.uv.fs_stat(vim.fs.joinpath(root, 'pyproject.toml')) and root or nil
end

--- The file buffer :checkhealth was run from: it opens a buffer of its own, so that one is the
--- alternate buffer now.
---@return integer?
local function checked_buffer()
  local bufnr = vim.fn.bufnr('#')
  if bufnr > 0 and vim.bo[bufnr].buftype == '' and vim.api.nvim_buf_get_name(bufnr) ~= '' then
    return bufnr
  end
end

--- Splits `fusion-ls config check` output into the settings and the lines of its "warnings:".
---@param output string
---@return string settings
---@return string[] warnings
local function warnings_of(output)
  local settings, warnings, in_warnings = {}, {}, false
  for _, line in ipairs(vim.split(output, '\n')) do
    if line == 'warnings:' then
      in_warnings = true
    elseif in_warnings and vim.startswith(line, '  ') then
      table.insert(warnings, vim.trim(line))
    else
      in_warnings = false
      table.insert(settings, line)
    end
  end
  return table.concat(settings, '\n'), warnings
end

--- A path as the server compares it: absolute, links resolved when it exists.
---@param path string
---@return string
local function real(path)
  return vim.uv.fs_realpath(path) or vim.fs.normalize(path)
end

--- The workspace folders of the client a buffer is attached to, when the server will refuse to
--- review its file: the file is outside all of them and allow_outside_workspace is not set.
---@param bufnr integer
---@param file string
---@return string[]?
local function refusing_folders(bufnr, file)
  local client = vim.lsp.get_clients({ bufnr = bufnr, name = 'fusion_ls' })[1]
  local options = client and client.config.init_options or {}
  if not client or options.allow_outside_workspace == true then
    return nil
  end
  local path, folders = real(file), {}
  for _, folder in ipairs(client.workspace_folders or {}) do
    local dir = real(vim.uri_to_fname(folder.uri))
    if path == dir or vim.startswith(path, dir .. '/') then
      return nil
    end
    table.insert(folders, dir)
  end
  return #folders > 0 and folders or nil
end

function M.check()
  vim.health.start('fusion-ls server')
  local plugin = require('fusion_ls')
  local cmd = plugin.server_cmd()
  if type(cmd) ~= 'table' or not cmd[1] then
    vim.health.warn('the fusion_ls cmd is not a list of strings; cannot check it')
    return
  end
  local shown = table.concat(cmd, ' ')
  if vim.fn.executable(cmd[1]) == 0 then
    local repo = checkout()
    local source = repo or '/path/to/your/fusion-ls/checkout'
    vim.health.error(('`%s` not found'):format(cmd[1]), {
      ('install it from the checkout: `pip install %s` (or `pipx install %s`)'):format(
        source,
        source
      ),
      ('or build its venv with `make -C %s` and point to `%s/.venv/bin/fusion-ls`:'):format(
        source,
        source
      ),
      "require('fusion_ls').setup({ cmd = { '/path/to/fusion-ls' } }), or on 0.11 "
        .. "vim.lsp.config('fusion_ls', { cmd = { '/path/to/fusion-ls' } })",
    })
    return
  end
  vim.health.ok(('`%s` found: %s'):format(shown, vim.fn.exepath(cmd[1])))

  local bufnr = checked_buffer()
  local file = bufnr and vim.api.nvim_buf_get_name(bufnr)
  local root = bufnr and (plugin.root_dir(bufnr) or vim.fs.dirname(file)) or vim.fn.getcwd()
  -- Both at once: each is a Python start-up.
  local version_check = spawn(cmd, { '--version' }, root)
  local config_check = spawn(cmd, { 'config', 'check', file or root }, root)
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
  local folders = bufnr and refusing_folders(bufnr, file)
  if folders then
    vim.health.warn(
      ('%s is outside the workspace (%s): fusion-ls refuses to review it'):format(
        file,
        table.concat(folders, ', ')
      ),
      {
        'to review files outside the workspace: '
          .. "require('fusion_ls').setup({ allow_outside_workspace = true }), or on 0.11 "
          .. "vim.lsp.config('fusion_ls', { init_options = { allow_outside_workspace = true } })",
      }
    )
  end

  vim.health.start('fusion-ls settings for ' .. (file or root))
  local status, output = finish(config_check)
  if status ~= 0 then
    vim.health.error(('`fusion-ls config check` failed (exit %d):\n%s'):format(status, output))
    return
  end
  local settings, warnings = warnings_of(output)
  vim.health.ok('`fusion-ls config check` in ' .. root)
  vim.health.info(settings)
  for _, warning in ipairs(warnings) do
    vim.health.warn(warning)
  end
end

return M
