import { DataSourcePlugin } from '@grafana/data';
import { ConfigEditor } from './components/ConfigEditor';
import { QueryEditor } from './components/QueryEditor';
import { CrumbtrailDataSource } from './datasource/datasource';
import type { AuditDataSourceOptions, AuditQuery } from './types';

export const plugin = new DataSourcePlugin<CrumbtrailDataSource, AuditQuery, AuditDataSourceOptions>(
  CrumbtrailDataSource
)
  .setConfigEditor(ConfigEditor)
  .setQueryEditor(QueryEditor);
