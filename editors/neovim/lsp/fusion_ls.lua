-- fusion-ls for Neovim 0.11+: `vim.lsp.enable('fusion_ls')` starts it for every file buffer.
-- Change any field with `vim.lsp.config('fusion_ls', { ... })`, for example
--   init_options = { mode = 'debate', pool = { 'model/a', 'model/b' }, judge = 'model/c' }
-- or call `require('fusion_ls').setup({ mode = 'debate', ... })`, which does that for you.

---@type vim.lsp.Config
return {
  cmd = { 'fusion-ls' },
  root_markers = { '.fusion.toml', '.git' },
  -- A file of no project joins a project's running client, whose server refuses to review it
  -- unless init_options.allow_outside_workspace; by default it would get a client of no root,
  -- which reviews anything (see require('fusion_ls').reuse_client).
  reuse_client = function(client, config)
    return require('fusion_ls').reuse_client(client, config)
  end,
}
