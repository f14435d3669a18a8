// Search the way people type: no accents needed («nunez» finds «Núñez»), numbers in any spacing
// («55 1234» finds +52 55 1234 5678).

/** Lower case without accents or diacritics (ñ → n as people type it on a keyboard without it). */
export function sinAcentos(texto: string): string {
  return texto.normalize("NFD").replace(/\p{Diacritic}/gu, "").toLowerCase();
}

/** Only the digits of a text. */
export function soloDigitos(texto: string): string {
  return texto.replace(/\D/g, "");
}

/** Does `consulta` match any of the texts (names) or numbers? Digits-only queries also match inside numbers. */
export function coincide(consulta: string, textos: (string | null | undefined)[], numeros: (string | null | undefined)[] = []): boolean {
  const q = sinAcentos(consulta.trim());
  if (!q) return true;
  if (textos.some((t) => t && sinAcentos(t).includes(q))) return true;
  const d = soloDigitos(q);
  // A query made of digits and separators ("55 1234", "55-1234") is a number.
  if (d.length >= 2 && /^[\d\s+().-]+$/.test(q)) return numeros.some((n) => n && soloDigitos(n).includes(d));
  return false;
}
