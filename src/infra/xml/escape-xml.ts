const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/**
 * Text made safe inside an XML element or a quoted attribute (XML 1.0 §2.4, §3.3.3). One copy
 * for the S3 protocol's answers and the S3 client's requests.
 */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}
