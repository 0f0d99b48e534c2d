-- Drives the fusion-ls Neovim plugin like a user would, for tests/test_neovim.py.
--
--   nvim --headless --clean -u INIT -l nvim_driver.lua RESULT.json FILE [checkhealth]
--
-- INIT loads the plugin and starts fusion_ls for file buffers. This script runs :FusionReview on
-- lines 1-10 of FILE, reads back the diagnostics and the hover, applies the quick fix, runs
-- :FusionClear, :FusionReviewChanges (FILE is committed in a git repository; the fix changed it)
-- (and :checkhealth fusion_ls when asked) and writes everything it saw to RESULT.json. It asserts nothing itself: the Python test does, so failures read well.
local result_path, file, checkhealth = arg[1], arg[2], arg[3] == 'checkhealth'
local TIMEOUT_MS = 15000
local result = { notes = {} }

vim.notify = function(message, level)
  table.insert(result.notes, { message = message, level = level })
end

---@param what string
---@param condition fun(): boolean
local function wait_for(what, condition)
  if not vim.wait(TIMEOUT_MS, condition, 10) then
    error('timed out waiting for ' .. what, 2)
  end
end

---@param bufnr integer
---@param method string
---@param params table
---@param client vim.lsp.Client
local function request(bufnr, method, params, client)
  local replies = vim.lsp.buf_request_sync(bufnr, method, params, TIMEOUT_MS) or {}
  local reply = replies[client.id] or {}
  assert(not reply.err, method .. ': ' .. vim.inspect(reply.err))
  return reply.result
end

local function run()
  -- The empty start-up buffer has no client: a command says so instead of failing silently.
  vim.cmd('FusionReviewFile')
  result.unattached, result.notes = result.notes, {}

  vim.cmd.edit(vim.fn.fnameescape(file))
  local bufnr = vim.api.nvim_get_current_buf()
  local client ---@type vim.lsp.Client
  wait_for('the fusion_ls client', function()
    client = vim.lsp.get_clients({ bufnr = bufnr, name = 'fusion_ls' })[1]
    return client ~= nil and client.initialized == true
  end)
  result.client = {
    root_dir = client.root_dir or vim.NIL,
    init_options = client.config.init_options or vim.NIL,
  }

  -- The final diagnostics are published right after the progress ends.
  local published, published_at_end = 0, nil
  vim.api.nvim_create_autocmd('DiagnosticChanged', {
    buffer = bufnr,
    callback = function()
      published = published + 1
    end,
  })
  vim.api.nvim_create_autocmd('LspProgress', {
    pattern = 'end',
    callback = function()
      published_at_end = published
    end,
  })
  -- A review of one range publishes after its progress ends; a review of changes publishes each
  -- file as it lands, before its progress ends.
  local function review(command, before_end)
    published, published_at_end = 0, nil
    vim.cmd(command)
    wait_for(command, function()
      return published_at_end ~= nil and published > (before_end and 0 or published_at_end)
    end)
  end
  review('1,10FusionReview')

  local diagnostics = vim.diagnostic.get(bufnr)
  table.sort(diagnostics, function(a, b)
    return a.lnum < b.lnum
  end)
  result.diagnostics = vim.tbl_map(function(d)
    return {
      lnum = d.lnum,
      col = d.col,
      message = d.message,
      source = d.source,
      code = d.code,
      severity = d.severity,
    }
  end, diagnostics)

  local finding = assert(diagnostics[1], 'no diagnostics').user_data.lsp
  local document = { uri = vim.uri_from_bufnr(bufnr) }
  local hover = request(bufnr, 'textDocument/hover', {
    textDocument = document,
    position = finding.range.start,
  }, client)
  result.hover = hover and hover.contents.value or vim.NIL

  local actions = request(bufnr, 'textDocument/codeAction', {
    textDocument = document,
    range = finding.range,
    context = { diagnostics = { finding } },
  }, client) or {}
  result.actions = vim.tbl_map(function(action)
    return action.title
  end, actions)
  for _, action in ipairs(actions) do
    if vim.startswith(action.title, 'Fusion: apply fix') then
      vim.lsp.util.apply_workspace_edit(action.edit, client.offset_encoding)
    end
  end
  result.fixed = vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)

  vim.cmd('FusionClear')
  wait_for('the findings to be cleared', function()
    return #vim.diagnostic.get(bufnr) == 0
  end)
  result.cleared = true

  -- The quick fix left line 5 changed (unsaved): a review of changes reviews that line only.
  review('FusionReviewChanges', true)
  result.changes = vim.tbl_map(function(d)
    return d.lnum
  end, vim.diagnostic.get(bufnr))

  if checkhealth then
    vim.cmd('checkhealth fusion_ls')
    result.health = vim.api.nvim_buf_get_lines(0, 0, -1, false)
  end

  client:stop()
  wait_for('the server to stop', function()
    return client:is_stopped()
  end)
end

local ok, err = xpcall(run, debug.traceback)
result.error = not ok and err or nil
vim.fn.writefile({ vim.json.encode(result) }, result_path)
