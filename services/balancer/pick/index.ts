import type { PickerName } from '../config.js';
import { ConsistentHashPicker } from './consistent-hash.js';
import { LeastRequestPicker } from './least-request.js';
import { P2cEwmaPicker } from './p2c-ewma.js';
import type { Picker, RandomSource } from './picker.js';
import { RoundRobinPicker } from './round-robin.js';

export type { Pickable, PickContext, Picker, RandomSource } from './picker.js';
export { P2cEwmaPicker, RoundRobinPicker, LeastRequestPicker, ConsistentHashPicker };

export function createPicker(name: PickerName, random: RandomSource = Math.random): Picker {
  switch (name) {
    case 'p2c-ewma':
      return new P2cEwmaPicker(random);
    case 'round-robin':
      return new RoundRobinPicker();
    case 'least-request':
      return new LeastRequestPicker(random);
    case 'consistent-hash':
      return new ConsistentHashPicker(random);
  }
}
