-- :FusionReview, :FusionExplain, :FusionReviewFile, :FusionReviewChanges and :FusionClear, and
-- fusion-ls's progress.
-- Starting the server is up to vim.lsp.enable('fusion_ls') (0.11) or require('fusion_ls').setup().
if vim.g.loaded_fusion_ls then
  return
end
vim.g.loaded_fusion_ls = true

local commands = {
  FusionReview = {
    function(args)
      require('fusion_ls').review(0, args.line1, args.line2)
    end,
    { range = true, desc = 'fusion-ls: review the selected lines (default: the current line)' },
  },
  FusionExplain = {
    function(args)
      require('fusion_ls').explain(0, args.line1, args.line2)
    end,
    { range = true, desc = 'fusion-ls: explain the selected lines (default: the current line)' },
  },
  FusionReviewFile = {
    function()
      require('fusion_ls').review_file(0)
    end,
    { desc = 'fusion-ls: review the whole buffer' },
  },
  FusionReviewChanges = {
    function()
      require('fusion_ls').review_changes()
    end,
    { desc = "fusion-ls: review the workspace's uncommitted changes, on the changed lines" },
  },
  FusionClear = {
    function()
      require('fusion_ls').clear(0)
    end,
    { desc = "fusion-ls: clear the buffer's findings and stop its reviews" },
  },
}
for name, command in pairs(commands) do
  vim.api.nvim_create_user_command(name, command[1], command[2])
end

vim.api.nvim_create_autocmd('LspProgress', {
  group = vim.api.nvim_create_augroup('fusion_ls_progress', {}),
  desc = 'fusion-ls: show review progress',
  callback = function(event)
    require('fusion_ls').on_progress(event)
  end,
})
