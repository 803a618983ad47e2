/**
 * Hosts a container label may never claim, whoever else holds them: the sign-in host (a route
 * there would receive every user's sign-in), IP literals (whoever browses to the address, and
 * Gatehouse's own address, belong to the operator) and bare `localhost`. Subdomains of
 * `localhost` stay open: they resolve to the machine the browser runs on and are how the quick
 * start names its apps (`httpbin.localhost`). Only the operator's routes file may claim these.
 *
 * Hosts arrive as the WHATWG URL parser leaves them, lowercased without a trailing dot:
 * `0x7f.1`, `2130706433` and `0177.0.0.1` are already `127.0.0.1`; IPv6 is bracketed.
 */

const DOTTED_IPV4 = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;

export function forbiddenClaimReason(host: string, signInHost: string | null): string | null {
  if (host === signInHost) return 'is the sign-in host (GATEHOUSE_AUTH_URL), which only Gatehouse serves; publish the app under another host';
  if (host.startsWith('[') || DOTTED_IPV4.test(host)) return 'is an IP address; publish apps under a host name, such as https://app.example.com';
  if (host === 'localhost') return 'is localhost; use a name below it, such as http://app.localhost';
  return null;
}
