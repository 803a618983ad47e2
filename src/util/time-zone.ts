/** Whether this Node knows the time zone (an IANA name such as Europe/Berlin, or UTC). No I/O. */
export function isTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}
