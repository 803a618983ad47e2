import { describe, expect, it } from 'vitest';
import { buildRouteTable, diffTables } from '../../../src/routes/index.ts';
import { containerSpec, labelIssue } from './fixtures.ts';

describe('diffTables', () => {
  const keep = containerSpec({ name: 'keep', hosts: ['keep.example'] });
  const gone = containerSpec({ name: 'gone', hosts: ['gone.example'] });
  const edit = containerSpec({ name: 'edit', hosts: ['edit.example'] });
  const badPort = labelIssue('broken', 'iap.port', 'bad port');

  it('reports everything as added against no table', () => {
    const after = buildRouteTable([keep, gone], [badPort]);
    expect(diffTables(null, after)).toEqual({
      added: ['container:gone/default', 'container:keep/default'],
      removed: [],
      changed: [],
      rejected: [badPort],
    });
  });

  it('names added, removed and changed routes and only the newly rejected issues', () => {
    const before = buildRouteTable([keep, gone, edit], [badPort]);
    const badFrom = labelIssue('other', 'iap.from', 'bad from');
    const after = buildRouteTable(
      [
        containerSpec({ name: 'keep', hosts: ['keep.example'] }),
        containerSpec({ name: 'edit', hosts: ['edit.example'], ready: false }),
        containerSpec({ name: 'new', hosts: ['new.example'] }),
      ],
      [badPort, badFrom],
    );
    expect(diffTables(before, after)).toEqual({
      added: ['container:new/default'],
      removed: ['container:gone/default'],
      changed: ['container:edit/default'],
      rejected: [badFrom],
    });
  });

  it('finds nothing between equal tables', () => {
    const before = buildRouteTable([keep], [badPort]);
    const after = buildRouteTable([keep], [badPort]);
    expect(diffTables(before, after)).toEqual({ added: [], removed: [], changed: [], rejected: [] });
  });
});
