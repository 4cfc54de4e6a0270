/**
 * Data tables for prompt normalisation (normalize.ts): a compact confusables/homoglyph table for the Latin letters,
 * built from Unicode's confusables knowledge (UTS #39 confusables.txt, restricted to look-alikes of a–z), and the small
 * word lists the decoders use to tell a rot13 / reversed / leetspeak payload from ordinary text.
 *
 * Everything here is plain data built once at module load; nothing is read at call time.
 */

/** Scripts whose look-alike letters are folded only in context (see normalize.ts): never inside plain native text. */
export type LookalikeScript = 'cyrillic' | 'greek' | 'armenian' | 'cherokee' | 'lisu'

export interface ScriptLookalike {
  /** The lower-case ASCII letter it imitates. */
  to: string
  script: LookalikeScript
  /**
   * Strong: indistinguishable from the Latin letter in common fonts (Cyrillic а е о р с у х і ѕ …). Only strong
   * look-alikes make a whole word "made of look-alikes"; weak ones (small-capital-like к м н т …) are folded only in
   * words that already mix scripts.
   */
  strong: boolean
}

/** Pairs "source target" — each source one code point, each target one ASCII letter. */
function pairs(spec: string): Array<[number, string]> {
  const out: Array<[number, string]> = []
  const chars = Array.from(spec.replace(/\s/g, ''))
  for (let i = 0; i + 1 < chars.length; i += 2) {
    const src = chars[i]
    const dst = chars[i + 1]
    if (src !== undefined && dst !== undefined) out.push([src.codePointAt(0) ?? 0, dst])
  }
  return out
}

/**
 * Latin-script and symbol look-alikes, folded wherever they appear (they are not letters of a living non-Latin
 * script, so folding them never damages native text): small capitals, IPA letters, APL symbols.
 */
export const LATIN_LOOKALIKES: ReadonlyMap<number, string> = new Map<number, string>([
  // small capitals
  ...pairs('ᴀa ʙb ᴄc ᴅd ᴇe ꜰf ɢg ʜh ɪi ᴊj ᴋk ʟl ᴍm ɴn ᴏo ᴘp ꞯq ʀr ꜱs ᴛt ᴜu ᴠv ᴡw ʏy ᴢz Ɪi'),
  // IPA and other Latin letters that read as plain ones
  ...pairs('ɑa ɡg ıi ȷj ɩi ĸk Ɩl ǀl ʋv ᴑo ℮e'),
  // APL symbols
  ...pairs('⍳i ⍴p ⍵w ⍺a'),
])

const CYRILLIC_STRONG = 'аa еe оo рp сc уy хx іi јj ѕs һh ԁd ԛq ԝw ӏl үy ѵv ' + 'Аa Вb Еe Кk Мm Нh Оo Рp Сc Тt Уy Хx Ѕs Іi Јj Ӏl Үy Ԛq Ԝw Ѵv'
const CYRILLIC_WEAK = 'вb кk мm нh тt пn гr иu ьb шw ёe ҳx Ьb'
const GREEK_STRONG = 'οo αa ιi κk νv ρp υu χx ϳj ' + 'Οo Αa Βb Εe Ζz Ηh Ιi Κk Μm Νn Ρp Τt Υy Χx Ϳj'
const GREEK_WEAK = 'γy εe ηn τt ωw βb'
const ARMENIAN = 'օo սu հh ոn ցg զq Օo Սu'
const CHEROKEE = 'Ꭺa Ᏼb Ꮯc Ꭰd Ꭼe Ꮐg Ꮋh Ꭵi Ꭻj Ꮶk Ꮮl Ꮇm Ꮲp Ꭱr Ꮪs Ꭲt Ꮩv Ꮃw Ꮓz'
const LISU = 'ꓮa ꓐb ꓚc ꓓd ꓰe ꓝf ꓖg ꓧh ꓲi ꓙj ꓗk ꓡl ꓟm ꓠn ꓳo ꓑp ꓣr ꓢs ꓔt ꓴu ꓦv ꓪw ꓫx ꓬy ꓜz'

function scriptTable(): Map<number, ScriptLookalike> {
  const m = new Map<number, ScriptLookalike>()
  const add = (spec: string, script: LookalikeScript, strong: boolean): void => {
    for (const [cp, to] of pairs(spec)) m.set(cp, { to, script, strong })
  }
  add(CYRILLIC_STRONG, 'cyrillic', true)
  add(CYRILLIC_WEAK, 'cyrillic', false)
  add(GREEK_STRONG, 'greek', true)
  add(GREEK_WEAK, 'greek', false)
  add(ARMENIAN, 'armenian', true)
  add(CHEROKEE, 'cherokee', true)
  // Cherokee small letters (U+AB70–ABBF) mirror the capitals (U+13A0–13EF) and look like small capitals.
  for (const [cp, to] of pairs(CHEROKEE)) {
    if (cp >= 0x13a0 && cp <= 0x13ef) m.set(cp - 0x13a0 + 0xab70, { to, script: 'cherokee', strong: false })
  }
  add(LISU, 'lisu', true)
  return m
}

/** Look-alikes from other scripts, folded only inside mixed-script words or look-alike words next to Latin text. */
export const SCRIPT_LOOKALIKES: ReadonlyMap<number, ScriptLookalike> = scriptTable()

/** The script a code point belongs to, for the scripts in SCRIPT_LOOKALIKES (undefined for any other). */
export function lookalikeScriptOf(cp: number): LookalikeScript | undefined {
  if ((cp >= 0x0400 && cp <= 0x052f) || (cp >= 0x1c80 && cp <= 0x1c8f) || (cp >= 0x2de0 && cp <= 0x2dff) || (cp >= 0xa640 && cp <= 0xa69f)) {
    return 'cyrillic'
  }
  if ((cp >= 0x0370 && cp <= 0x03ff) || (cp >= 0x1f00 && cp <= 0x1fff)) return 'greek'
  if (cp >= 0x0530 && cp <= 0x058f) return 'armenian'
  if ((cp >= 0x13a0 && cp <= 0x13ff) || (cp >= 0xab70 && cp <= 0xabbf)) return 'cherokee'
  if (cp >= 0xa4d0 && cp <= 0xa4ff) return 'lisu'
  return undefined
}

/**
 * Letter-shaped symbols that NFKC does not fold, or folds into something else than a letter: each range maps its code
 * points in order onto 'a'…'z'.
 * - U+249C–24B5 parenthesised small letters (NFKC would give "(a)"), U+1F110–1F129 parenthesised capitals,
 * - U+1F150–1F169 negative circled capitals, U+1F170–1F189 negative squared capitals,
 * - U+1F1E6–1F1FF regional indicator symbols (used letter by letter; pairs render as flags).
 */
export const LETTER_RANGES: ReadonlyArray<readonly [number, number]> = [
  [0x249c, 0x24b5],
  [0x1f110, 0x1f129],
  [0x1f150, 0x1f169],
  [0x1f170, 0x1f189],
  [0x1f1e6, 0x1f1ff],
]

/**
 * Ranges whose characters NFKC folds to ASCII letters or digits (fullwidth forms, mathematical alphanumerics, circled
 * and squared letters, letter-like symbols, super/subscripts, Roman numerals). They are folded one by one before the
 * whole-text NFKC so that each can be counted as a homoglyph.
 */
export const COMPAT_RANGES: ReadonlyArray<readonly [number, number]> = [
  [0x1d2c, 0x1d6a], // modifier letters ᴬ ᵃ …
  [0x2070, 0x209f], // superscripts and subscripts ⁱ ₐ …
  [0x2100, 0x214f], // letter-like symbols ℌ ℓ K Å …
  [0x2160, 0x217f], // Roman numerals Ⅰ ⅴ …
  [0x2460, 0x249b], // circled / parenthesised / full-stop digits ① ⑴ ⒈
  [0x24b6, 0x24ea], // circled letters Ⓐ ⓐ and ⓪
  [0xff10, 0xff19], // fullwidth digits
  [0xff21, 0xff3a], // fullwidth capitals
  [0xff41, 0xff5a], // fullwidth small letters
  [0x1d400, 0x1d7ff], // mathematical alphanumeric symbols 𝐚 𝓪 𝔞 𝕒 𝟏 …
  [0x1f100, 0x1f10c], // digit full stop / digit comma 🄁
  [0x1f130, 0x1f149], // squared capitals 🄰
]

/**
 * Common English words, including the vocabulary of prompt attacks. Used (a) to recognise rot13 and reversed
 * payloads — their decoded form is full of these words while ordinary text turned the same way is not — and (b) to
 * choose between readings of ambiguous leetspeak (1 → i or l, 2 → z or r). Words whose rot13 or reversal is itself a
 * common word (be/or, now/won, are/era, …) are dropped from the corresponding check in normalize.ts.
 */
export const COMMON_WORDS: readonly string[] = (
  'the and you your yours that this these those with for from are was were what when where which who why how ' +
  'have has had will would should could can cannot must not now all any every everything anything nothing ' +
  'is it its to me my of in if then than there their they them he she his her him we our us do does did done ' +
  'about above after again against before below between into over under only just also very more most some such ' +
  'here please tell show give make write say print output repeat reveal explain list describe answer respond ' +
  'ignore ignoring ignored disregard forget forgetting override bypass previous prior earlier preceding following ' +
  'instructions instruction rules rule system prompt prompts message messages context initial original ' +
  'secret secrets password passwords credentials confidential hidden internal private key keys token tokens ' +
  'admin administrator developer mode enabled jailbreak jailbroken unrestricted unfiltered uncensored restrictions ' +
  'restricted limits limitations filter filters safety guidelines policy policies ethical ethics moral legal illegal ' +
  'pretend act acting roleplay role character persona simulate imagine hypothetical fictional story ' +
  'execute command commands run shell code access delete remove send email emails data database file files ' +
  'user users account accounts information details detailed step steps guide tutorial ' +
  'bomb weapon weapons explosive explosives drugs drug poison kill killing hack hacking hacker malware virus ' +
  'steal stealing exploit attack weapon meth cocaine money bank credit card ' +
  'new true false yes always never without anyone someone everyone people person world hello simple ' +
  'still tell well will till kill skill fill call all ball small tool tools model models language leak ' +
  'unlock unlocked evil help follow free full fully real really like little only also self'
)
  .split(/\s+/)
  .filter((w, i, a) => w.length > 0 && a.indexOf(w) === i)
