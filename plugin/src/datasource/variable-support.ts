/*
 * Template variables: the values of any lookup field (busiest first), optionally under filters
 * that may use other variables, so variables chain (users of the chosen event source).
 */
import {
  createDataFrame,
  CustomVariableSupport,
  type DataQueryRequest,
  type DataQueryResponse,
  FieldType,
} from '@grafana/data';
import { from, type Observable } from 'rxjs';
import { VariableQueryEditor } from '../components/VariableQueryEditor';
import type { AuditVariableQuery } from '../types';
import type { CrumbtrailDataSource } from './datasource';

export const DEFAULT_VARIABLE_LIMIT = 100;
export const DEFAULT_VARIABLE_FIELD = 'eventName';

export class AuditVariableSupport extends CustomVariableSupport<CrumbtrailDataSource, AuditVariableQuery> {
  editor = VariableQueryEditor;

  constructor(private readonly datasource: CrumbtrailDataSource) {
    super();
  }

  query(request: DataQueryRequest<AuditVariableQuery>): Observable<DataQueryResponse> {
    return from(this.values(request));
  }

  private async values(request: DataQueryRequest<AuditVariableQuery>): Promise<DataQueryResponse> {
    const [query] = request.targets;
    if (query === undefined) {
      return { data: [] };
    }
    const filters = this.datasource.interpolateFilters(query.filters, request.scopedVars);
    const values = await this.datasource.fieldValues(
      query.field ?? DEFAULT_VARIABLE_FIELD,
      filters,
      request.range,
      query.limit ?? DEFAULT_VARIABLE_LIMIT
    );
    return {
      data: [
        createDataFrame({
          refId: query.refId,
          fields: [
            { name: 'text', type: FieldType.string, values },
            { name: 'value', type: FieldType.string, values },
          ],
        }),
      ],
    };
  }
}
