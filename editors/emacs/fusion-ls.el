;;; fusion-ls.el --- fusion-ls through eglot  -*- lexical-binding: t; -*-

;; Reviews and explanations of the region by fusion-ls's models.  Works on
;; Emacs 28 with eglot from GNU ELPA or Debian's elpa-eglot, and on Emacs 29
;; and 30 with the eglot they ship: it uses only eglot's and jsonrpc's public
;; functions.

;;; Code:

(require 'eglot)
(require 'jsonrpc)
(require 'cl-lib)
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

(defun fusion-ls--count (count noun)
  "COUNT NOUNs, as a phrase: \"1 finding\", \"2 findings\"."
  (format "%s %s%s" count noun (if (eql count 1) "" "s")))

;; In the result of a command "kind" says which command answered.
(defun fusion-ls--show (result)
  "Say what an \"ok\" RESULT brought: the findings, or the explanation."
  (let ((kind (plist-get result :kind)))
    (cond ((equal kind "review")
           (message "fusion-ls: %s"
                    (fusion-ls--count (plist-get result :findings) "finding")))
          ((equal kind "reviewChanges")
           (message "fusion-ls: %s in %s"
                    (fusion-ls--count (plist-get result :findings) "finding")
                    (fusion-ls--count (plist-get result :files) "file")))
          ((equal kind "explain")
           (let ((text (plist-get result :explanation)))
             (if (and (stringp text) (string-match-p "[^[:space:]]" text))
                 (with-help-window "*fusion-ls explanation*" (princ text))
               (message "fusion-ls: the server sent an empty explanation")))))))

(defun fusion-ls--send (server command arguments)
  "Ask SERVER to run COMMAND with ARGUMENTS (nil: none); do not wait for it.
The answer is said in the echo area when it comes."
  (jsonrpc-async-request
   server :workspace/executeCommand
   (append (list :command command) (and arguments (list :arguments arguments)))
   :timeout nil                 ; a review lasts as long as its slowest model
   :deferred command            ; after eglot has sent the buffer's last edits
   :success-fn
   (lambda (result)
     (let ((status (and (listp result) (plist-get result :status))))
       (cond ((equal status "ok") (fusion-ls--show result))
             ((equal status "stale")
              (message "fusion-ls: the buffer changed while the models ran"))
             ((member status '("error" "cancelled"))) ; the server said why
             (t (message "fusion-ls: %s gave an unexpected answer: %S"
                         command result)))))
   :error-fn
   (lambda (error)
     (message "fusion-ls: %s failed: %s" command (plist-get error :message))))
  nil)

(defun fusion-ls--execute (command &optional arguments)
  "Ask this buffer's server to run COMMAND with ARGUMENTS; do not wait for it."
  (fusion-ls--send (or (eglot-current-server)
                       (user-error "fusion-ls: no server here; M-x eglot first"))
                   command arguments))

;; eglot runs a code action's command and waits for it: Emacs would hang
;; while the models answer (eglot before 1.16 gives up after 10 seconds).
;; The code actions that start a review or an explanation are sent instead.
(defconst fusion-ls--slow-commands
  '("fusion.review" "fusion.explain" "fusion.reviewFile" "fusion.reviewChanges")
  "The commands that last as long as the models take to answer.")

(if (fboundp 'eglot-execute)            ; eglot 1.16 and later
    (cl-defmethod eglot-execute :around (server action)
      "Send fusion-ls's slow commands (ACTION) to SERVER without waiting."
      (let ((command (plist-get action :command)))
        (if (member command fusion-ls--slow-commands)
            (fusion-ls--send server command (plist-get action :arguments))
          (cl-call-next-method))))
  (with-suppressed-warnings ((obsolete eglot-execute-command))
    (cl-defmethod eglot-execute-command :around (server command arguments)
      "Send fusion-ls's slow COMMAND with ARGUMENTS to SERVER without waiting."
      (let ((name (format "%s" command)))
        (if (member name fusion-ls--slow-commands)
            (fusion-ls--send server name arguments)
          (cl-call-next-method))))))

(defun fusion-ls-review (start end)
  "Review the lines from START to END (the region, else the current line).
The findings arrive as flymake diagnostics."
  (interactive (fusion-ls--region))
  (fusion-ls--execute
   "fusion.review" (vector (fusion-ls--uri) (fusion-ls--lines start end))))

(defun fusion-ls-explain (start end)
  "Explain the lines from START to END (the region, else the current line)."
  (interactive (fusion-ls--region))
  (fusion-ls--execute
   "fusion.explain" (vector (fusion-ls--uri) (fusion-ls--lines start end))))

(defun fusion-ls-review-file ()
  "Review the whole file."
  (interactive)
  (fusion-ls--execute "fusion.reviewFile" (vector (fusion-ls--uri))))

(defun fusion-ls-review-changes ()
  "Review the project's uncommitted changes, on their changed lines.
Every file that differs from git's HEAD, and every buffer as it is, saved
or not; the findings arrive as flymake diagnostics on each changed file."
  (interactive)
  (fusion-ls--execute "fusion.reviewChanges"))

(defun fusion-ls-clear ()
  "Remove the file's findings and explanations, and stop its reviews."
  (interactive)
  (fusion-ls--execute "fusion.clear" (vector (fusion-ls--uri))))

(provide 'fusion-ls)
;;; fusion-ls.el ends here
