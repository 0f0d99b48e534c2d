// Render the comment list in the article sidebar.

export function renderComments(container, comments) {
  container.innerHTML = "";
  for (const comment of comments) {
    const item = document.createElement("li");
    item.innerHTML = `<strong>${comment.author}</strong> ${comment.text}`;
    container.appendChild(item);
  }
}
