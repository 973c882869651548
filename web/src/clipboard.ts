// Copying to the clipboard, and the one line of status that says it happened.
import { signal } from "@preact/signals";

/** The last thing the page did that has no place of its own ("copied …"), for a live region. */
export const status = signal("");

let clear: ReturnType<typeof setTimeout> | undefined;
export function say(text: string): void {
  status.value = text;
  clearTimeout(clear);
  clear = setTimeout(() => (status.value = ""), 4000);
}

/** Copies `text`; says whether it worked (a page without clipboard access says so, no error). */
export async function copyText(text: string, what: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    say(`Copied ${what}.`);
    return true;
  } catch {
    say(`This browser did not allow copying ${what}: select the text and copy it by hand.`);
    return false;
  }
}

/** Offers `text` as a file download. */
export function download(text: string, filename: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
  say(`Saved ${filename}.`);
}
