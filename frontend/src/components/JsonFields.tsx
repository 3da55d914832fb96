import { Code, Table, Text } from '@mantine/core';

/** A JSON object's keys and values as a two-column table (nested values as compact JSON). */
export function JsonFields({ value, label }: { value: unknown; label: string }) {
  if (value === null || value === undefined) {
    return (
      <Text size="sm" c="dimmed">
        None
      </Text>
    );
  }
  if (typeof value !== 'object' || Array.isArray(value)) {
    return <Code block>{JSON.stringify(value, null, 2)}</Code>;
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (!entries.length) {
    return (
      <Text size="sm" c="dimmed">
        None
      </Text>
    );
  }
  return (
    <Table aria-label={label} withTableBorder>
      <Table.Tbody>
        {entries.map(([k, v]) => (
          <Table.Tr key={k}>
            <Table.Th w="35%">{k}</Table.Th>
            <Table.Td>{typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)}</Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}

/** "key: value" pairs on one line, for table cells. */
export function compactFields(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value !== 'object' || Array.isArray(value)) return JSON.stringify(value);
  return Object.entries(value as Record<string, unknown>)
    .map(([k, v]) => `${k}: ${typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)}`)
    .join(', ');
}
