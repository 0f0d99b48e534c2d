;;; fusion-ls.el --- fusion-ls through eglot  -*- lexical-binding: t; -*-

;; Reviews and explanations of the region by fusion-ls's models.  Works on
;; Emacs 28 with eglot from GNU ELPA or Debian's elpa-eglot, and on Emacs 29
;; and 30 with the eglot they ship: it uses only eglot's and jsonrpc's public
;; functions.

;;; Code:

(require 'eglot)
(require 'jsonrpc)
(require 'url-util)

(defvar fusion-ls-command '("fusion-ls")
  "The server command and its arguments.
From a checkout: (\"/path/to/fusion-ls/.venv/bin/fusion-ls\").")

(defvar fusion-ls-initialization-options '(:mode "merge")
  "Sent as initializationOptions: may set mode, pool, judge, min_agreement.")

;; Read when eglot starts the server: setting the variables later still counts.
(add-to-list 'eglot-server-programs
             `((python-mode python-ts-mode)
               . ,(lambda (&rest _)
                    (append fusion-ls-command
                            (list :initializationOptions
                                  fusion-ls-initialization-options)))))

(defun fusion-ls--uri ()
  "The URI of the visited file, as eglot sends it to the server."
  (let ((file (or buffer-file-name
                  (user-error "fusion-ls: this buffer visits no file"))))
    (if (fboundp 'eglot-path-to-uri)
        (eglot-path-to-uri file)        ; eglot 1.16 and later
      ;; Older eglot makes the same URI privately: the true name, encoded.
      (let ((allowed (copy-sequence url-path-allowed-chars)))
        (aset allowed ?: nil)
        (concat "file://" (url-hexify-string (file-truename file) allowed))))))

(defun fusion-ls--lines (start end)
  "The LSP range of the whole lines from START to END.
A region that ends at the start of a line does not include that line."
  (let ((first (line-number-at-pos start t))
        (last (line-number-at-pos end t)))
    (when (and (> end start) (save-excursion (goto-char end) (bolp)))
      (setq last (max first (1- last))))
    `(:start (:line ,(1- first) :character 0) :end (:line ,last :character 0))))

(defun fusion-ls--region ()
  "The region's bounds, else the current line's."
  (if (use-region-p)
      (list (region-beginning) (region-end))
    (list (line-beginning-position) (line-end-position))))

(defun fusion-ls--execute (command arguments &optional on-ok)
  "Ask the server to run COMMAND with ARGUMENTS; do not wait for it.
ON-OK is called with a result whose status is \"ok\"; other answers are
said in the echo area."
  (let ((server (or (eglot-current-server)
                    (user-error "fusion-ls: no server here; M-x eglot first"))))
    (jsonrpc-async-request
     server :workspace/executeCommand
     `(:command ,command :arguments ,arguments)
     :timeout nil               ; a review lasts as long as its slowest model
     :success-fn
     (lambda (result)
       (let ((status (and (listp result) (plist-get result :status))))
         (cond ((equal status "ok") (when on-ok (funcall on-ok result)))
               ((equal status "stale")
                (message "fusion-ls: the buffer changed while the models ran"))
               ((member status '("error" "cancelled"))) ; the server said why
               (t (message "fusion-ls: %s gave an unexpected answer: %S"
                           command result)))))
     :error-fn
     (lambda (error)
       (message "fusion-ls: %s failed: %s"
                command (plist-get error :message))))))

(defun fusion-ls-review (start end)
  "Review the lines from START to END (the region, else the current line).
The findings arrive as flymake diagnostics."
  (interactive (fusion-ls--region))
  (fusion-ls--execute
   "fusion.review" (vector (fusion-ls--uri) (fusion-ls--lines start end))
   (lambda (result)
     (message "fusion-ls: %s findings" (plist-get result :findings)))))

(defun fusion-ls-explain (start end)
  "Explain the lines from START to END (the region, else the current line)."
  (interactive (fusion-ls--region))
  (fusion-ls--execute
   "fusion.explain" (vector (fusion-ls--uri) (fusion-ls--lines start end))
   (lambda (result)
     (let ((text (plist-get result :explanation)))
       (if (and (stringp text) (string-match-p "[^[:space:]]" text))
           (with-help-window "*fusion-ls explanation*" (princ text))
         (message "fusion-ls: the server sent an empty explanation"))))))

(defun fusion-ls-review-file ()
  "Review the whole file."
  (interactive)
  (fusion-ls--execute "fusion.reviewFile" (vector (fusion-ls--uri))))

(defun fusion-ls-clear ()
  "Remove the file's findings and explanations, and stop its reviews."
  (interactive)
  (fusion-ls--execute "fusion.clear" (vector (fusion-ls--uri))))

(provide 'fusion-ls)
;;; fusion-ls.el ends here
