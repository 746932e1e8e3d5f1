/** Removes `user:token@` from a URL so it can be logged. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/i, '$1***@');
}

/** Removes the userinfo of every URL in a text (a program's message may quote its remote). */
export function redactUserinfo(text: string): string {
  return text.replace(/\/\/[^/@\s]*@/g, '//***@');
}

/** Replaces each secret (of 4 characters or more; longest first) with `***`. */
export function redactor(secrets: readonly string[] = []): (text: string) => string {
  const values = secrets.filter((s) => s.length >= 4).sort((a, b) => b.length - a.length);
  return (text) => values.reduce((t, s) => t.split(s).join('***'), text);
}
