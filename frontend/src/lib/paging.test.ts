import {
  currentCursor,
  formatCursorStack,
  nextStack,
  parseCursorStack,
  parsePageSize,
  previousStack,
} from './paging';
import { patchParams } from './searchParams';

describe('Relay paging kept in the URL', () => {
  it('walks forward and back through the cursor stack', () => {
    let stack = parseCursorStack(null);
    expect(currentCursor(stack)).toBeNull();
    stack = nextStack(stack, 'YQ==');
    stack = nextStack(stack, 'Yg==');
    expect(formatCursorStack(stack)).toBe('YQ==,Yg==');
    expect(currentCursor(stack)).toBe('Yg==');
    stack = previousStack(stack);
    expect(currentCursor(stack)).toBe('YQ==');
    expect(formatCursorStack(previousStack(stack))).toBeNull();
  });

  it('reads what it wrote, ignoring empty pieces', () => {
    expect(parseCursorStack('a,,b')).toEqual(['a', 'b']);
  });

  it('accepts only the offered page sizes', () => {
    expect(parsePageSize('50')).toBe(50);
    expect(parsePageSize('7')).toBe(20);
    expect(parsePageSize(null, [50, 100])).toBe(50);
  });

  it('patches search params, dropping empty values', () => {
    const next = patchParams(new URLSearchParams('q=x&after=a'), { after: null, size: 50, q: '' });
    expect(next.toString()).toBe('size=50');
  });
});
