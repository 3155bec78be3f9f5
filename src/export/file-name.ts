/** Expands a fileNameTemplate: {flow} {entity} {date} {time} {seq}, date and time in the flow's time zone. */
export interface FileNameValues {
  flow: string;
  entity: string;
  at: Date;
  timeZone: string;
  seq: number;
}

export const DEFAULT_FILE_NAME_TEMPLATE = '{flow}_{entity}_{date}_{time}_{seq}';

function localParts(at: Date, timeZone: string): Record<string, string> {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(at);
  return Object.fromEntries(parts.map((p) => [p.type, p.value]));
}

export function expandFileName(template: string, values: FileNameValues): string {
  const p = localParts(values.at, values.timeZone);
  const replacements: Record<string, string> = {
    flow: values.flow,
    entity: values.entity,
    date: `${p.year}${p.month}${p.day}`,
    time: `${p.hour}${p.minute}${p.second}`,
    seq: String(values.seq).padStart(3, '0'),
  };
  return template.replace(/\{(flow|entity|date|time|seq)\}/g, (_, name: string) => replacements[name]).replace(/[/\\]/g, '_');
}

/** Adds the format, compression and encryption extensions unless the template already ends with them. */
export function withExtensions(base: string, extensions: string): string {
  return base.endsWith(extensions) ? base : base + extensions;
}
