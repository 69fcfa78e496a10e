// DOM helpers for the streaming paths, where every redraw counts.

/**
 * Shows `text` in `element` by changing its text node in place: assigning
 * `textContent` would replace the node, and the browser then rebuilds its
 * layout object instead of only reshaping the text. Unchanged text is left
 * alone.
 */
export function setText(element: Element, text: string): void {
  const node = element.firstChild;
  if (node instanceof Text && node === element.lastChild) {
    if (node.data !== text) node.data = text;
  } else if (element.textContent !== text) {
    element.textContent = text;
  }
}
