const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether `value` is a UUID (row ids): anything else typed or crafted into an id option never reaches SQL. */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}
