const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether `value` is a UUID (row ids): anything else typed or crafted into an id option never reaches SQL. */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/** A PostgreSQL array literal of uuids (no quoting needed), for `= any(?::uuid[])`. */
export function uuidArray(ids: string[]): string {
  return `{${ids.join(',')}}`;
}
