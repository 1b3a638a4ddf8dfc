// Counts in words: "1 user", "2 users", "1,204 users".

/** `count` with the noun in the singular for exactly one, else `many` (default: `one` + "s"). */
export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count.toLocaleString()} ${count === 1 ? one : many}`;
}
