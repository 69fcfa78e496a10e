// Keyboard shortcuts for the whole dashboard (listed in the `?` dialog).
// Single keys act only when focus is not in a text field.

export interface ShortcutActions {
  search: () => void;
  nextSymbol: (by: 1 | -1) => void;
  interval: (index: number) => void;
  pauseTicks: () => void;
  nextTheme: () => void;
  /** Opens the paper order ticket on a side. */
  trade: (side: 'buy' | 'sell') => void;
  help: () => void;
}

/** Whether a key press belongs to a text field (or a select, or a modifier chord). */
export function typing(event: KeyboardEvent): boolean {
  const target = event.target as HTMLElement | null;
  if (event.ctrlKey || event.metaKey || event.altKey) return true;
  if (!target) return false;
  return target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName);
}

export function bindShortcuts(actions: ShortcutActions): void {
  document.addEventListener('keydown', (event) => {
    if (typing(event) || event.defaultPrevented) return;
    const act = (action: () => void) => {
      event.preventDefault();
      action();
    };
    switch (event.key) {
      case '/':
        return act(actions.search);
      case 'j':
        return act(() => actions.nextSymbol(1));
      case 'k':
        return act(() => actions.nextSymbol(-1));
      case 'p':
        return act(actions.pauseTicks);
      case 't':
        return act(actions.nextTheme);
      case 'b':
        return act(() => actions.trade('buy'));
      case 's':
        return act(() => actions.trade('sell'));
      case '?':
        return act(actions.help);
      default:
        if (/^[1-6]$/.test(event.key)) act(() => actions.interval(Number(event.key) - 1));
    }
  });
}
