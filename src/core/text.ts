/**
 * PostgreSQL text cannot hold U+0000, and a query carrying one fails as a
 * whole. People can type anything into Discord: it is dropped before storing
 * or searching.
 */
export function withoutNul(text: string): string {
  return text.includes('\u0000') ? text.replaceAll('\u0000', '') : text;
}
