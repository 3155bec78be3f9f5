/**
 * Object names for pairs. A pair is identified by flow, entity and source key; its name is
 * `<flow>.<entity>.<key>`, the key shown as it reads in the source (`42`, `ab-12`) when that is a
 * safe name segment, else `~` and the base64url of the stored key. Keys are stored in the
 * engine's order-preserving encoding (engine/keys.ts): integers as `p` + 19 digits.
 */
import { encodeInteger, isEncodedInteger, readablePart } from '../engine/keys.js';

const PART_SEPARATOR = '\u0001';
const SAFE_SEGMENT = /^[A-Za-z0-9_-]{1,200}$/;

/** A stored key as a person reads it: composite parts joined by commas. */
export function displayKey(stored: string): string {
  return stored.split(PART_SEPARATOR).map(readablePart).join(',');
}

export function keySegment(stored: string): string {
  const shown = displayKey(stored);
  const roundTrips = shown === stored || (isEncodedInteger(stored) && /^-?\d+$/.test(shown));
  return SAFE_SEGMENT.test(shown) && roundTrips ? shown : `~${Buffer.from(stored, 'utf8').toString('base64url')}`;
}

/** The stored keys a segment may stand for (a number may be an integer key or a text key). */
export function storedKeysOf(segment: string): string[] {
  if (segment.startsWith('~')) return [Buffer.from(segment.slice(1), 'base64url').toString('utf8')];
  if (/^-?\d{1,20}$/.test(segment)) return [encodeInteger(segment), segment];
  return [segment];
}

export function pairName(flowName: string, entity: string, storedSourceKey: string): string {
  return `${flowName}.${entity}.${keySegment(storedSourceKey)}`;
}

/** `<flow>.<entity>.<key>`, split from the right (flow names may contain dots, entities and segments do not). */
export function parsePairName(name: string): { flowName: string; entity: string; segment: string } | undefined {
  const last = name.lastIndexOf('.');
  const middle = last > 0 ? name.lastIndexOf('.', last - 1) : -1;
  if (middle <= 0) return undefined;
  return { flowName: name.slice(0, middle), entity: name.slice(middle + 1, last), segment: name.slice(last + 1) };
}

/** The side and stored key of a `new` (unpaired) record's segment, `new-<side>~<base64url key>` (objects.ts unpairedName); a pair's segment never has this form. */
export function parseUnpairedSegment(segment: string): { side: 'source' | 'target'; key: string } | undefined {
  const match = /^new-(source|target)~([A-Za-z0-9_-]*)$/.exec(segment);
  return match ? { side: match[1] as 'source' | 'target', key: Buffer.from(match[2], 'base64url').toString('utf8') } : undefined;
}

/** Flow ids in the state DB are `<namespace>/<flow>`. */
export function splitFlowId(flowId: string): { namespace: string; name: string } {
  const slash = flowId.indexOf('/');
  return slash < 0 ? { namespace: '', name: flowId } : { namespace: flowId.slice(0, slash), name: flowId.slice(slash + 1) };
}
