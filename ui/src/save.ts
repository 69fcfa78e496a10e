// Saving an export: a download in the browser; in the desktop app, a file
// the app writes into the Downloads folder (the web view has no downloads).
import { exportFile, inDesktopApp } from './platform';

/** Saves `text` as `name`; resolves to where it went, in words. */
export async function saveFile(name: string, type: string, text: string): Promise<string> {
  if (inDesktopApp()) {
    const path = await exportFile(name, text);
    return `Saved to ${path}`;
  }
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  return `Downloaded ${name}`;
}
