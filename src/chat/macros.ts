/** Character cards write {{char}} and {{user}} (also <BOT>/<USER>) for the two names. */
export function fillMacros(text: string, names: { char: string; user: string }): string {
  return text
    .replace(/\{\{char\}\}|<BOT>/gi, names.char)
    .replace(/\{\{user\}\}|<USER>/gi, names.user);
}
