// Show a short notification at the bottom of the page.

export function showToast(message, { timeoutMs = 4000 } = {}) {
  const toast = document.createElement("div");
  toast.className = "toast";
  toast.setAttribute("role", "status");
  toast.textContent = message;
  document.body.appendChild(toast);
  setTimeout(() => toast.remove(), timeoutMs);
  return toast;
}
