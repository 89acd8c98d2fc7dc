/*
 * Datasource settings: the collector's query API address and its API token. Grafana's server calls
 * the collector (the `collector` route in plugin.json) and adds the token, which is stored
 * encrypted and never sent back to the browser.
 */
import React from 'react';
import type { DataSourcePluginOptionsEditorProps } from '@grafana/data';
import { DataSourcePicker } from '@grafana/runtime';
import { Field, FieldSet, Input, SecretInput } from '@grafana/ui';
import type { AuditDataSourceOptions, AuditSecureJsonData } from '../types';
import { Selectors } from './selectors';

type Props = DataSourcePluginOptionsEditorProps<AuditDataSourceOptions, AuditSecureJsonData>;

export function ConfigEditor({ options, onOptionsChange }: Props) {
  const { jsonData, secureJsonFields } = options;
  const secureJsonData = options.secureJsonData ?? {};

  const setJsonData = (patch: Partial<AuditDataSourceOptions>) =>
    onOptionsChange({ ...options, jsonData: { ...jsonData, ...patch } });

  return (
    <>
      <FieldSet label="Collector">
        <Field
          label={Selectors.collectorUrl}
          description="The crumbtrail collector's query API as the Grafana server reaches it (port 8790 by default)."
          required
        >
          <Input
            id="crumbtrail-collector-url"
            aria-label={Selectors.collectorUrl}
            width={50}
            placeholder="http://localhost:8790"
            value={jsonData.collectorUrl ?? ''}
            onChange={(event) => setJsonData({ collectorUrl: event.currentTarget.value.trim() })}
          />
        </Field>
        <Field
          label={Selectors.apiToken}
          description="The token the collector was started with (--api-token). Stored encrypted; Grafana adds it to each request."
        >
          <SecretInput
            id="crumbtrail-api-token"
            aria-label={Selectors.apiToken}
            width={50}
            placeholder="none"
            isConfigured={secureJsonFields.apiToken ?? false}
            value={secureJsonData.apiToken ?? ''}
            onChange={(event) =>
              onOptionsChange({
                ...options,
                secureJsonData: { ...secureJsonData, apiToken: event.currentTarget.value },
              })
            }
            onReset={() =>
              onOptionsChange({
                ...options,
                secureJsonFields: { ...secureJsonFields, apiToken: false },
                secureJsonData: { ...secureJsonData, apiToken: '' },
              })
            }
          />
        </Field>
      </FieldSet>
      <FieldSet label="Links">
        <Field
          label={Selectors.traceDatasource}
          description="Events link to their trace in this datasource (Tempo, Jaeger, Zipkin)."
        >
          <DataSourcePicker
            tracing
            noDefault
            width={50}
            current={jsonData.traceDatasourceUid ?? null}
            onChange={(datasource) => setJsonData({ traceDatasourceUid: datasource.uid })}
            onClear={() => setJsonData({ traceDatasourceUid: undefined })}
          />
        </Field>
      </FieldSet>
    </>
  );
}
