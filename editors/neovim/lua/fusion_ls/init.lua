--- fusion-ls for Neovim: starts the language server and forwards its commands.
--- Reviews, prompts and model calls all happen in the server; nothing here knows about them.
local M = {}

local NAME = 'fusion_ls'
local DEFAULT_CMD = { 'fusion-ls' }
local ROOT_MARKERS = { '.fusion.toml', '.git' }
local HAS_0_11 = vim.fn.has('nvim-0.11') == 1

--- What setup() chose on Neovim 0.10 ({ cmd, init_options }); 0.11 keeps it in vim.lsp.config.
local legacy = { cmd = DEFAULT_CMD }

--- Checks an optional setup() option; the error points at the caller of setup().
---@param name string
---@param value any
---@param types string|string[]
local function validate(name, value, types)
  local ok, err
  if HAS_0_11 then
    ok, err = pcall(vim.validate, name, value, types, true)
  else
    ok, err = pcall(vim.validate, { [name] = { value, types, true } })
  end
  if not ok then
    error('fusion_ls.setup: ' .. err, 3)
  end
end

--- A file buffer's project: the nearest .fusion.toml, else .git; nil for a file of no project.
---@param bufnr integer
---@return string?
function M.root_dir(bufnr)
  return vim.fs.root(bufnr, ROOT_MARKERS)
end

--- Whether a fusion-ls client rooted at a project is running.
---@return boolean
local function project_client_running()
  for _, client in ipairs(vim.lsp.get_clients({ name = NAME })) do
    if client.root_dir and not client:is_stopped() then
      return true
    end
  end
  return false
end

--- The client a command about the whole workspace goes to: the current buffer's, else one
--- rooted at a project (a client of no root, started for a file of no project, has no folder
--- whose changes it could review), else any.
---@return vim.lsp.Client?
local function workspace_client()
  local current = vim.lsp.get_clients({ bufnr = 0, name = NAME })[1]
  if current then
    return current
  end
  local clients = vim.lsp.get_clients({ name = NAME })
  for _, client in ipairs(clients) do
    if client.root_dir then
      return client
    end
  end
  return clients[1]
end

--- Which running client a buffer joins (`reuse_client` of vim.lsp.start and vim.lsp.config).
--- A project's file joins its project's client. A file of no project (no .fusion.toml or .git
--- above it) joins a client rooted at a project, whose server then refuses to review it unless
--- allow_outside_workspace is set, as VS Code refuses a file outside its folder; only when no
--- project's client runs does it join or start a client of no root, which reviews it, like a
--- VS Code window with no folder. (A root of its own would make every file inside a workspace.)
---@param client vim.lsp.Client
---@param config vim.lsp.ClientConfig
---@return boolean
function M.reuse_client(client, config)
  if client.name ~= config.name or client:is_stopped() then
    return false
  end
  if config.root_dir then
    return client.root_dir == config.root_dir
  end
  return client.root_dir ~= nil or not project_client_running()
end

--- Starts the client for a buffer that holds a file, or attaches the running one (0.10).
---@param bufnr integer
local function start(bufnr)
  if vim.bo[bufnr].buftype ~= '' or vim.api.nvim_buf_get_name(bufnr) == '' then
    return
  end
  vim.lsp.start({
    name = NAME,
    cmd = legacy.cmd,
    root_dir = M.root_dir(bufnr),
    init_options = legacy.init_options,
  }, { bufnr = bufnr, reuse_client = M.reuse_client })
end

---@class fusion_ls.Model
---@field model string
---@field provider? string

---@class fusion_ls.Options
---@field cmd? string[] The server command; default { 'fusion-ls' }.
---@field mode? 'best-of'|'merge'|'debate' Overrides `fusion.mode` of .fusion.toml.
---@field pool? (string|fusion_ls.Model)[] Overrides `fusion.pool`.
---@field judge? string|fusion_ls.Model Overrides `fusion.judge`.
---@field min_agreement? integer|'majority' Overrides `review.min_agreement` (the noise dial).
---@field allow_outside_workspace? boolean Review files outside the workspace too (default false).

--- Starts fusion-ls for every file buffer, now and from then on.
---@param opts? fusion_ls.Options
function M.setup(opts)
  opts = opts or {}
  validate('opts', opts, 'table')
  validate('cmd', opts.cmd, 'table')
  validate('mode', opts.mode, 'string')
  validate('pool', opts.pool, 'table')
  validate('judge', opts.judge, { 'string', 'table' })
  validate('min_agreement', opts.min_agreement, { 'number', 'string' })
  validate('allow_outside_workspace', opts.allow_outside_workspace, 'boolean')
  local init_options = {
    mode = opts.mode,
    pool = opts.pool,
    judge = opts.judge,
    min_agreement = opts.min_agreement,
    allow_outside_workspace = opts.allow_outside_workspace,
  }
  if vim.tbl_isempty(init_options) then
    init_options = nil
  end

  if HAS_0_11 then
    vim.lsp.config(NAME, { cmd = opts.cmd, init_options = init_options })
    vim.lsp.enable(NAME)
    return
  end
  legacy = { cmd = opts.cmd or DEFAULT_CMD, init_options = init_options }
  vim.api.nvim_create_autocmd('FileType', {
    group = vim.api.nvim_create_augroup('fusion_ls', {}),
    callback = function(event)
      start(event.buf)
    end,
  })
  for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(bufnr) and vim.bo[bufnr].filetype ~= '' then
      start(bufnr)
    end
  end
end

--- The command Neovim runs to start the server (a function when the user configured one).
---@return string[]|function|nil
function M.server_cmd()
  if HAS_0_11 then
    local config = vim.lsp.config[NAME]
    return config and config.cmd
  end
  return legacy.cmd
end

--- What a failed request says, whatever shape the error came in.
---@param err any
---@return string
local function error_text(err)
  local message = type(err) == 'table' and err.message or err
  return type(message) == 'string' and message ~= '' and message or vim.inspect(err)
end

--- Runs one of the server's `fusion.*` commands for a buffer (nil: for the workspace, through
--- any fusion-ls client). `on_ok` gets the result only when it is a table with status "ok"; any
--- other answer is reported, never raised as a Lua error.
---@param bufnr integer?
---@param command string
---@param arguments any[]?
---@param on_ok? fun(result: table)
local function execute(bufnr, command, arguments, on_ok)
  local client = bufnr and vim.lsp.get_clients({ bufnr = bufnr, name = NAME })[1]
    or workspace_client()
  if not client then
    local where = bufnr and 'attached to this buffer' or 'running'
    vim.notify(
      ('fusion-ls is not %s (see :checkhealth fusion_ls)'):format(where),
      vim.log.levels.WARN
    )
    return
  end
  ---@param err any
  ---@param result any
  local function handler(err, result)
    local status = type(result) == 'table' and result.status or nil
    if err then
      local message = ('fusion-ls: %s failed: %s'):format(command, error_text(err))
      vim.notify(message, vim.log.levels.ERROR)
    elseif status == 'stale' then
      vim.notify('fusion-ls: the buffer changed too much while the models ran; run it again')
    elseif status == 'ok' then
      if on_ok then
        on_ok(result)
      end
    elseif status ~= 'error' and status ~= 'cancelled' then
      -- "error" was shown by the server, "cancelled" by the progress; anything else is a bug.
      local answer = vim.inspect(result)
      local message = ('fusion-ls: %s gave an unexpected answer: %s'):format(command, answer)
      vim.notify(message, vim.log.levels.WARN)
    end
  end
  if HAS_0_11 then
    local lsp_command = { title = command, command = command, arguments = arguments }
    client:exec_cmd(lsp_command, { bufnr = bufnr }, handler)
  else
    local params = { command = command, arguments = arguments }
    client.request('workspace/executeCommand', params, handler, bufnr)
  end
end

--- Lines first..last (1-based) as the LSP range of whole lines the server expects.
---@param first integer
---@param last integer
---@return lsp.Range
local function line_range(first, last)
  return { start = { line = first - 1, character = 0 }, ['end'] = { line = last, character = 0 } }
end

---@param bufnr integer
---@return integer
local function resolve(bufnr)
  return bufnr == 0 and vim.api.nvim_get_current_buf() or bufnr
end

--- Reviews lines first..last; the findings arrive as diagnostics.
---@param bufnr integer
---@param first integer
---@param last integer
function M.review(bufnr, first, last)
  bufnr = resolve(bufnr)
  execute(bufnr, 'fusion.review', { vim.uri_from_bufnr(bufnr), line_range(first, last) })
end

--- Shows an explanation in a floating window; an empty or odd one is said, never raised
--- (a floating window of no width is a Lua error).
---@param result {explanation: any}
local function show_explanation(result)
  local text = type(result.explanation) == 'string' and vim.trim(result.explanation) or ''
  if text == '' then
    vim.notify('fusion-ls: the server sent an empty explanation', vim.log.levels.WARN)
    return
  end
  local lines = vim.split(text, '\n')
  local ok = pcall(vim.lsp.util.open_floating_preview, lines, 'markdown', {
    focus_id = 'fusion_ls_explain',
  })
  if not ok then -- e.g. markdown that renders to nothing: show the text as it came
    vim.notify(text)
  end
end

--- Explains lines first..last in a floating window; hovering the lines shows it again.
---@param bufnr integer
---@param first integer
---@param last integer
function M.explain(bufnr, first, last)
  bufnr = resolve(bufnr)
  local arguments = { vim.uri_from_bufnr(bufnr), line_range(first, last) }
  execute(bufnr, 'fusion.explain', arguments, show_explanation)
end

--- Reviews the whole buffer.
---@param bufnr integer
function M.review_file(bufnr)
  bufnr = resolve(bufnr)
  execute(bufnr, 'fusion.reviewFile', { vim.uri_from_bufnr(bufnr) })
end

--- Reviews the uncommitted changes of the workspace: every file that differs from git's HEAD
--- (open buffers as they are, saved or not), on its changed lines.
function M.review_changes()
  execute(nil, 'fusion.reviewChanges', nil) -- no arguments: an empty table would be a JSON object
end

--- Removes the buffer's findings and explanations, and stops its running reviews.
---@param bufnr integer
function M.clear(bufnr)
  bufnr = resolve(bufnr)
  execute(bufnr, 'fusion.clear', { vim.uri_from_bufnr(bufnr) })
end

--- LspProgress handler: echoes fusion-ls's progress and notifies how a run ended.
---@param event {data: {client_id: integer, params: lsp.ProgressParams}}
function M.on_progress(event)
  local client = vim.lsp.get_client_by_id(event.data.client_id)
  local value = vim.tbl_get(event, 'data', 'params', 'value')
  if not (client and client.name == NAME and type(value) == 'table') then
    return
  end
  ---@param field any
  ---@param default string
  local function text(field, default)
    return type(field) == 'string' and field or default
  end
  if value.kind == 'end' then
    vim.notify('Fusion: ' .. text(value.message, 'done'), vim.log.levels.INFO)
  elseif value.kind == 'begin' then -- the title ("Fusion: review")
    vim.api.nvim_echo({ { text(value.title, 'Fusion') } }, false, {})
  else -- a "report": the state ("round 1: 2/3 answered")
    vim.api.nvim_echo({ { 'Fusion: ' .. text(value.message, '…') } }, false, {})
  end
end

return M
