import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { s3errors } from '../../domain/errors.js';
import { escapeXml } from '../../infra/xml/escape-xml.js';

/**
 * XML in and out of the S3 protocol. Output is built as strings (fast, no DOM); input is parsed
 * only after the body has been capped in size, with entities off (no expansion attacks).
 */

export { escapeXml };

export type XmlValue = string | number | boolean | undefined | XmlNode | readonly XmlNode[];
export interface XmlNode {
  readonly [name: string]: XmlValue;
}

/** Renders `{ Name: value }` trees; arrays repeat the element, undefined omits it. */
export function renderXml(root: string, body: XmlNode, namespace = 'http://s3.amazonaws.com/doc/2006-03-01/'): string {
  const ns = namespace === '' ? '' : ` xmlns="${namespace}"`;
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${root}${ns}>${renderChildren(body)}</${root}>`;
}

function renderChildren(node: XmlNode): string {
  let out = '';
  for (const [name, value] of Object.entries(node)) out += renderElement(name, value);
  return out;
}

export function renderElement(name: string, value: XmlValue): string {
  if (value === undefined) return '';
  if (Array.isArray(value)) return (value as readonly XmlNode[]).map((item) => renderElement(name, item)).join('');
  if (typeof value === 'object') return `<${name}>${renderChildren(value as XmlNode)}</${name}>`;
  return `<${name}>${escapeXml(String(value))}</${name}>`;
}

const parser = new XMLParser({
  ignoreAttributes: true,
  removeNSPrefix: true,
  parseTagValue: false,
  trimValues: true,
  processEntities: true,
  // Go's encoding/xml (rclone, restic) writes quotes as &#34; — numeric references must decode.
  htmlEntities: true,
  isArray: (_name, jpath) => ARRAY_PATHS.has(String(jpath)),
});

/** Elements that may repeat, so they always parse as arrays. */
const ARRAY_PATHS = new Set(['CompleteMultipartUpload.Part', 'Delete.Object']);

export type ParsedXml = Record<string, unknown>;

/** Parses a capped request body; anything not well-formed is MalformedXML. */
export function parseXml(body: Buffer): ParsedXml {
  const text = body.toString('utf8');
  if (text.trim() === '' || XMLValidator.validate(text) !== true) throw s3errors.malformedXml();
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) throw s3errors.malformedXml('DOCTYPE and ENTITY declarations are not allowed.');
  try {
    return parser.parse(text) as ParsedXml;
  } catch {
    throw s3errors.malformedXml();
  }
}

export function isoDate(ms: number): string {
  return new Date(ms).toISOString();
}

export function httpDate(ms: number): string {
  return new Date(ms).toUTCString();
}
