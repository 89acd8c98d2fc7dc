/* Small readers shared by the datasource tests. */
import type { DataFrame, DataQueryResponse, Field } from '@grafana/data';

export function frameField(frame: DataFrame, name: string): Field {
  const found = frame.fields.find((candidate) => candidate.name === name);
  if (found === undefined) {
    throw new Error(`no field ${name} in frame ${frame.name ?? frame.refId ?? ''}`);
  }
  return found;
}

export function column(frame: DataFrame, name: string): unknown[] {
  return [...frameField(frame, name).values];
}

export function onlyFrame(response: DataQueryResponse): DataFrame {
  expect(response.data).toHaveLength(1);
  return response.data[0] as DataFrame;
}
