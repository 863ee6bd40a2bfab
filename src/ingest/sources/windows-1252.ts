/**
 * The WHATWG windows-1252 characters of bytes 0x80-0x9F. Node 20 from 20.18.3 decodes
 * windows-1252 (and so iso-8859-1 and us-ascii, which the Encoding Standard maps to it) as
 * Latin-1, leaving these bytes as C1 control characters (nodejs/node#60888); postal-mime decodes
 * with TextDecoder, so its text carries them. C1 controls have no place in mail text, so they are
 * read as the windows-1252 characters they were meant as. Five bytes have no character there and
 * stay as they are.
 */
const WINDOWS_1252_C1 = [
  0x20ac, 0x81, 0x201a, 0x192, 0x201e, 0x2026, 0x2020, 0x2021, 0x2c6, 0x2030, 0x160, 0x2039, 0x152,
  0x8d, 0x17d, 0x8f, 0x90, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x2dc, 0x2122,
  0x161, 0x203a, 0x153, 0x9d, 0x17e, 0x178,
];

const C1 = /[\u0080-\u009f]/g;

/** Text decoded as Latin-1 (or with C1 controls in it) with 0x80-0x9F as windows-1252. */
export function fixWindows1252(text: string): string {
  return text.replace(C1, (c) => String.fromCharCode(WINDOWS_1252_C1[c.charCodeAt(0) - 0x80]!));
}

/** Bytes in the Windows-1252 code page as text (a note saved by Notepad). */
export function decodeWindows1252(bytes: Uint8Array): string {
  return fixWindows1252(
    Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1'),
  );
}
