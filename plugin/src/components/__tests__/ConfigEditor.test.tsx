/*
 * The datasource settings page. Grafana keeps the options and calls onOptionsChange; the list of
 * datasources for the trace picker comes from Grafana's DataSourceSrv, stood in for here (it
 * lives in Grafana's app).
 */
import React from 'react';
import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { DataSourceInstanceSettings, DataSourceSettings } from '@grafana/data';
import { type DataSourceSrv, setDataSourceSrv } from '@grafana/runtime';
import type { AuditDataSourceOptions, AuditSecureJsonData } from '../../types';
import { ConfigEditor } from '../ConfigEditor';
import { Selectors } from '../selectors';

type Options = DataSourceSettings<AuditDataSourceOptions, AuditSecureJsonData>;

function options(patch: Partial<Options> = {}): Options {
  return {
    id: 1,
    uid: 'crumbtrail',
    orgId: 1,
    name: 'crumbtrail',
    type: 'crumbtrail-audit-datasource',
    typeName: 'crumbtrail',
    typeLogoUrl: '',
    access: 'proxy',
    url: '',
    user: '',
    database: '',
    basicAuth: false,
    basicAuthUser: '',
    isDefault: false,
    withCredentials: false,
    readOnly: false,
    jsonData: {},
    secureJsonFields: {},
    ...patch,
  };
}

beforeAll(() => {
  const tempo = {
    uid: 'tempo-uid',
    name: 'Tempo',
    type: 'tempo',
    meta: { tracing: true, info: { logos: { small: '' } } },
  };
  setDataSourceSrv({
    getList: () => [tempo as unknown as DataSourceInstanceSettings],
    getInstanceSettings: (ref: unknown) =>
      (ref === 'tempo-uid' || (ref as { uid?: string })?.uid === 'tempo-uid' ? tempo : undefined) as never,
    get: () => Promise.reject(new Error('not used')),
    reload: () => {},
    registerRuntimeDataSource: () => {},
  } as unknown as DataSourceSrv);
});

function setup(initial: Options) {
  const onOptionsChange = jest.fn<void, [Options]>();
  render(<ConfigEditor options={Object.freeze(initial)} onOptionsChange={onOptionsChange} />);
  const last = () => onOptionsChange.mock.calls[onOptionsChange.mock.calls.length - 1]?.[0];
  return { onOptionsChange, last };
}

describe('ConfigEditor', () => {
  it('keeps the collector URL in jsonData', async () => {
    const { last } = setup(options());
    await userEvent.type(screen.getByRole('textbox', { name: Selectors.collectorUrl }), 'h');
    expect(last()?.jsonData).toEqual({ collectorUrl: 'h' });
  });

  it('keeps a new API token in secureJsonData only', async () => {
    const { last } = setup(options({ jsonData: { collectorUrl: 'http://collector:8790' } }));
    await userEvent.type(screen.getByLabelText(Selectors.apiToken), 's');
    expect(last()?.secureJsonData).toEqual({ apiToken: 's' });
    expect(JSON.stringify(last()?.jsonData)).not.toContain('"s"');
  });

  it('shows a stored token as configured, never its value, and can reset it', async () => {
    const { last } = setup(options({ secureJsonFields: { apiToken: true } }));
    const token = screen.getByLabelText(Selectors.apiToken);
    expect(token).toBeDisabled();
    expect(token).toHaveValue('configured');
    await userEvent.click(screen.getByRole('button', { name: 'Reset' }));
    expect(last()?.secureJsonFields).toEqual({ apiToken: false });
    expect(last()?.secureJsonData).toEqual({ apiToken: '' });
  });

  it('links events to a chosen trace datasource', () => {
    setup(options({ jsonData: { collectorUrl: 'http://collector:8790', traceDatasourceUid: 'tempo-uid' } }));
    expect(screen.getByText('Tempo')).toBeInTheDocument();
  });
});
