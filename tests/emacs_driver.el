;;; emacs_driver.el --- drives editors/emacs/fusion-ls.el for tests/test_emacs.py  -*- lexical-binding: t; -*-

;;   emacs --batch -l emacs_driver.el RESULT.json SNIPPET FILE SERVER-COMMAND...
;;
;; Loads README's snippet (SNIPPET) as a user's init would, starts eglot on FILE with
;; SERVER-COMMAND, reviews lines 1-10 (flymake diagnostics), reads the hover through eldoc,
;; applies the quick fix (picked from the quick fixes eglot offers, the dismissals too), reviews
;; the changes (the fix, unsaved), explains lines 1-2, starts an explanation of lines 8-10 from a
;; code action and clears the findings (stopping that explanation), then writes what it saw to RESULT.json. It asserts nothing
;; itself: the Python test does, so failures read well.

;;; Code:

(require 'package)
(package-initialize)                    ; eglot from ELPA (or Debian's elpa-eglot) on Emacs 28
(require 'json)
(require 'cl-lib)

(defvar driver-result-path (pop command-line-args-left))
(defvar driver-snippet (pop command-line-args-left))
(defvar driver-file (pop command-line-args-left))
(defvar driver-server (prog1 command-line-args-left (setq command-line-args-left nil)))
(defvar driver-messages nil "Every message shown, newest first.")
(defvar driver-result nil "An alist, written as JSON at the end.")
(defconst driver-timeout-s 20)

(advice-add 'message :around
            (lambda (show format &rest args)
              (let ((text (apply show format args)))
                (when text (push text driver-messages))
                text)))

(defun driver-put (key value)
  (push (cons key value) driver-result))

(defun driver-wait (what condition)
  "Wait until CONDITION returns non-nil, or fail saying WHAT it waited for."
  (let ((deadline (+ (float-time) driver-timeout-s)) value)
    (while (and (not (setq value (funcall condition))) (< (float-time) deadline))
      (accept-process-output nil 0.05))
    (or value (error "Timed out waiting for %s" what))))

(defun driver-said (text)
  "Non-nil once a message containing TEXT was shown."
  (cl-some (lambda (m) (string-match-p (regexp-quote text) m)) driver-messages))

(defun driver-pause ()
  "What a pause of the user does: Emacs runs its idle timers (batch Emacs is never idle).
eglot sends the buffer's edits then, and requests deferred until then go out."
  (mapc #'timer-event-handler (copy-sequence timer-idle-list)))

(defun driver-line-start (line)
  (save-excursion (goto-char (point-min)) (forward-line (1- line)) (point)))

(defun driver-line-end (line)
  (save-excursion (goto-char (point-min)) (forward-line (1- line)) (line-end-position)))

(defun driver-diagnostics ()
  (sort (mapcar (lambda (d)
                  `((line . ,(line-number-at-pos (flymake-diagnostic-beg d)))
                    (column . ,(save-excursion (goto-char (flymake-diagnostic-beg d))
                                               (current-column)))
                    (type . ,(symbol-name (flymake-diagnostic-type d)))
                    (text . ,(flymake-diagnostic-text d))))
                (flymake-diagnostics))
        (lambda (a b) (< (alist-get 'line a) (alist-get 'line b)))))

(defun driver-pick (prefix)
  "A `completing-read' that records the choices offered and picks the one starting with PREFIX."
  (lambda (_prompt choices &rest _)
    (let ((titles (mapcar #'car choices)))
      (driver-put 'actions titles)
      (or (cl-find-if (lambda (title) (string-prefix-p prefix title)) titles)
          (error "No %s among %S" prefix titles)))))

(defun driver-eldoc ()
  "What eldoc's sources say at point, each called as eldoc calls it, once all have answered."
  (let (said pending)
    (dolist (source eldoc-documentation-functions)
      (when (functionp source)
        (let* ((done nil)
               (callback (lambda (doc &rest _)
                           (setq done t)
                           (when (stringp doc) (push doc said))
                           t)))
          (when (funcall source callback)  ; non-nil: it answers through the callback
            (push (lambda () done) pending)))))
    (driver-wait "eldoc" (lambda () (cl-every #'funcall pending)))
    (string-join (reverse said) "\n")))

(defun driver-run ()
  (load driver-snippet nil t)
  (setq fusion-ls-command driver-server)
  (find-file driver-file)
  (python-mode)
  (switch-to-buffer (current-buffer))   ; eglot shows hovers only in a displayed buffer
  (call-interactively #'eglot)
  (driver-wait "the server" #'eglot-current-server)

  (fusion-ls-review (point-min) (driver-line-end 10))
  (driver-wait "the review" (lambda () (driver-said "fusion-ls: 2 findings")))
  (driver-wait "the diagnostics" (lambda () (= (length (flymake-diagnostics)) 2)))
  (let ((diagnostics (driver-diagnostics)))
    (driver-put 'diagnostics diagnostics)
    (goto-char (point-min))
    (forward-line 4)
    (back-to-indentation)
    (driver-put 'hover (driver-eldoc))
    ;; The fix and the dismissals are all quick fixes: eglot asks which, and the user picks the fix.
    (let ((last-nonmenu-event ?\r))    ; asked from the keyboard: the minibuffer, not a menu
      (cl-letf (((symbol-function 'completing-read) (driver-pick "Fusion: apply fix")))
        (eglot-code-actions (line-beginning-position) (line-end-position) "quickfix" t)))
    (driver-put 'fixed (split-string (buffer-string) "\n")))

  ;; The fix is not saved, so Emacs locks the file with a `.#' link (as a typed edit does;
  ;; eglot's edit does not), which git lists as untracked.
  (lock-buffer)
  (driver-put 'locked (and (file-symlink-p (concat (file-name-directory driver-file) ".#"
                                                   (file-name-nondirectory driver-file)))
                           t))
  (fusion-ls-review-changes)
  (driver-pause)
  (driver-wait "the review of changes" (lambda () (driver-said "fusion-ls: 1 finding in 1 file")))

  (fusion-ls-explain (point-min) (driver-line-end 2))
  (driver-wait "the explanation" (lambda () (get-buffer "*fusion-ls explanation*")))
  (driver-put 'explanation (with-current-buffer "*fusion-ls explanation*" (buffer-string)))

  ;; A code action that starts an explanation returns at once (the models are slow on 8-10);
  ;; eglot alone would wait for the models, and give up after 10 seconds.
  (let ((last-nonmenu-event ?\r)
        (started (float-time)))
    (cl-letf (((symbol-function 'completing-read) (driver-pick "Fusion: explain selection")))
      (eglot-code-actions (driver-line-start 8) (driver-line-end 10) nil t))
    (driver-put 'code-action-s (- (float-time) started)))
  (driver-wait "the models to be asked"
               (lambda () (file-exists-p (expand-file-name "asked-slow" (getenv "HOME")))))

  (fusion-ls-clear)                     ; stops that explanation too
  (driver-wait "the findings to go" (lambda () (null (flymake-diagnostics))))
  (driver-put 'cleared t)
  (driver-put 'eglot (if (fboundp 'eglot-path-to-uri) "1.16+" "before 1.16"))
  (eglot-shutdown (eglot-current-server)))

(condition-case err
    (driver-run)
  (error (driver-put 'error (error-message-string err))))
(driver-put 'messages (reverse driver-messages))
(driver-put 'emacs emacs-version)
(with-temp-file driver-result-path
  (insert (json-encode driver-result)))
;;; emacs_driver.el ends here
