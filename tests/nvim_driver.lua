-- Drives the fusion-ls Neovim plugin like a user would, for tests/test_neovim.py.
--
--   nvim --headless --clean -u INIT -l nvim_driver.lua RESULT.json FILE [checkhealth]
--
-- INIT loads the plugin and starts fusion_ls for file buffers. This script runs :FusionReview on
-- lines 1-10 of FILE, reads back the diagnostics and the hover, applies the quick fix, runs
-- :FusionClear and :FusionReviewChanges (FILE is committed in a git repository; the fix changed
-- it); then :FusionExplain on lines the fake models explain (1-2), fail (3-4), leave blank (6-7)
-- and are too slow for (8-10, cleared while it runs), odd answers handed to the plugin's handlers,
-- a review no model answers (12-14), and :checkhealth fusion_ls when asked. It writes everything
-- it saw to RESULT.json and asserts nothing itself: the Python test does, so failures read well.
local result_path, file, checkhealth = arg[1], arg[2], arg[3] == 'checkhealth'
local wait = dofile(vim.fs.joinpath(vim.fs.dirname(debug.getinfo(1, 'S').source:sub(2)), 'nvim_shared.lua'))
local wait_for = wait.wait_for
local TIMEOUT_MS = wait.TIMEOUT_MS
local result = { notes = {} }
local sink = result.notes -- where notifications go now

vim.notify = function(message, level)
  table.insert(sink, { message = message, level = level })
end

--- Runs `fn` with the notifications it causes collected apart; returns them.
---@param fn fun()
---@return {message: string, level: integer}[]
local function noting(fn)
  local outer = sink
  sink = {}
  local ok, err = pcall(fn)
  local notes = sink
  sink = outer
  assert(ok, err)
  return notes
end

--- Waits until the client has no `workspace/executeCommand` request in flight.
---@param client vim.lsp.Client
local function wait_for_commands(client)
  wait.wait_for_commands({ client })
end

--- The lines of the floating windows open now, which it closes.
---@return string[]
local function take_floats()
  local lines = {}
  for _, win in ipairs(vim.api.nvim_list_wins()) do
    if vim.api.nvim_win_get_config(win).relative ~= '' then
      local buf = vim.api.nvim_win_get_buf(win)
      vim.list_extend(lines, vim.api.nvim_buf_get_lines(buf, 0, -1, false))
      vim.api.nvim_win_close(win, true)
    end
  end
  return lines
end

--- Runs an Ex command that sends a fusion command; what it notified and floated.
---@param client vim.lsp.Client
---@param ex string
local function run_command(client, ex)
  local notes = noting(function()
    vim.cmd(ex)
    wait_for_commands(client)
  end)
  return { notes = notes, float = take_floats() }
end

-- Answers the plugin's handlers may get from a server, however wrong: none may raise.
local ODD_ANSWERS = {
  { result = vim.NIL },
  { result = 'ok' },
  { result = {} },
  { result = { status = 'ok' } },
  { result = { status = 'ok', explanation = '' } },
  { result = { status = 'ok', explanation = vim.NIL } },
  { result = { status = 'ok', explanation = 42 } },
  { result = { status = 'ok', explanation = '```\n```' } },
  { result = { status = 'mystery' } },
  { err = { code = -32603 } },
  { err = { code = -32603, message = vim.NIL } },
  { err = 'broken pipe' },
}

--- Runs `ex` with the client answering `answer` at once instead of asking the server.
---@param client vim.lsp.Client
---@param ex string
---@param answer {err: any, result: any}
local function answered(client, ex, answer)
  local request = rawget(client, 'request') -- nil: the class's method
  client.request = function(...) -- a method call on 0.11, client.request(...) on 0.10
    for i = 1, select('#', ...) do
      local handler = select(i, ...)
      if type(handler) == 'function' then
        handler(answer.err, answer.result, {})
      end
    end
    return true, 0
  end
  local ok, err = pcall(run_command, client, ex)
  client.request = request
  return ok and err or { error = err }
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
  result.unattached = noting(function()
    vim.cmd('FusionReviewFile')
  end)

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
    offset_encoding = client.offset_encoding,
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

  result.explained = run_command(client, '1,2FusionExplain')
  result.explain_failed = run_command(client, '3,4FusionExplain')
  result.explain_blank = run_command(client, '6,7FusionExplain')
  -- The fake models say when they are asked (editor_home.ASKED_SLOW, in RESULT.json's directory):
  -- clearing before the server reaches them would cancel nothing in flight.
  local asked = vim.fs.joinpath(vim.fs.dirname(result_path), 'asked-slow')
  result.explain_cancelled = noting(function()
    vim.cmd('8,10FusionExplain')
    wait_for('the models to be asked', function()
      return vim.uv.fs_stat(asked) ~= nil
    end)
    vim.cmd('FusionClear')
    wait_for_commands(client)
  end)
  result.odd_answers = {}
  for _, answer in ipairs(ODD_ANSWERS) do
    table.insert(result.odd_answers, {
      explain = answered(client, '1,2FusionExplain', answer),
      review = answered(client, '1,2FusionReview', answer),
      review_changes = answered(client, 'FusionReviewChanges', answer),
    })
  end
  result.review_failed = run_command(client, '12,14FusionReview')

  if checkhealth then
    vim.cmd('checkhealth fusion_ls')
    result.health = vim.api.nvim_buf_get_lines(0, 0, -1, false)
  end

  client:stop()
  wait_for('the server to stop', function()
    return client:is_stopped()
  end)
end

wait.run_and_write(run, result, result_path)
