/**
 * `text.startsWith(prefix)`, with ASCII letters compared without case: Windows and macOS file
 * systems, Express and ASP.NET routing read `/ADMIN` as `/admin`, so path matching does too.
 */
export function startsWithFolded(text: string, prefix: string): boolean {
  // Past the end of `text`, charCodeAt is NaN, which equals nothing: a shorter text never matches.
  for (let i = 0; i < prefix.length; i++) {
    if (foldAscii(text.charCodeAt(i)) !== foldAscii(prefix.charCodeAt(i))) return false;
  }
  return true;
}

function foldAscii(code: number): number {
  return code >= 0x41 && code <= 0x5a ? code + 0x20 : code;
}
