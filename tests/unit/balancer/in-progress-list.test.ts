import { InProgressList } from '../../../services/balancer/proxy/in-progress-list.js';

describe('InProgressList', () => {
  test('when entries are added and removed in any order, then the walk gives exactly the ones left, newest first', () => {
    const list = new InProgressList<string>();
    const a = list.add('a');
    const b = list.add('b');
    const c = list.add('c');
    const d = list.add('d');
    expect([...list]).toEqual(['d', 'c', 'b', 'a']);
    list.remove(b); // middle
    expect([...list]).toEqual(['d', 'c', 'a']);
    list.remove(d); // first
    expect([...list]).toEqual(['c', 'a']);
    list.remove(a); // last
    expect([...list]).toEqual(['c']);
    expect(list.size).toBe(1);
    list.remove(c);
    expect([...list]).toEqual([]);
    expect(list.size).toBe(0);
    list.add('e');
    expect([...list]).toEqual(['e']);
  });

  test('when an entry is removed twice, then the second remove changes nothing', () => {
    const list = new InProgressList<number>();
    const one = list.add(1);
    list.add(2);
    list.remove(one);
    list.remove(one);
    expect([...list]).toEqual([2]);
    expect(list.size).toBe(1);
  });

  test('when an entry is removed, then it no longer points at its value or its neighbours', () => {
    const list = new InProgressList<object>();
    list.add({});
    const middle = list.add({});
    list.add({});
    list.remove(middle);
    expect(middle).toEqual({ value: undefined, prev: undefined, next: undefined });
  });

  test('when many requests come and go at random, then the list always holds exactly the ones in progress', () => {
    const list = new InProgressList<number>();
    const live = new Map<number, ReturnType<InProgressList<number>['add']>>();
    let seed = 7;
    const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let i = 0; i < 5_000; i++) {
      if (live.size > 0 && random() < 0.5) {
        const keys = [...live.keys()];
        const key = keys[Math.floor(random() * keys.length)] as number;
        list.remove(live.get(key)!);
        live.delete(key);
      } else {
        live.set(i, list.add(i));
      }
      if (i % 250 === 0) expect(new Set(list)).toEqual(new Set(live.keys()));
    }
    expect(list.size).toBe(live.size);
  });
});
