import { randomInt } from 'node:crypto';

// Two short words and a number, pktriot style: "small-fire-20477". Easy to read aloud,
// about 64*64*90000 ≈ 370 million names, so collisions are rare and retried.
const ADJECTIVES = [
  'amber', 'bold', 'brave', 'bright', 'calm', 'clever', 'cool', 'crisp', 'dark', 'deep', 'eager', 'early',
  'fair', 'fast', 'fine', 'fresh', 'gentle', 'glad', 'gold', 'grand', 'green', 'happy', 'hidden', 'holy',
  'jolly', 'keen', 'kind', 'late', 'light', 'little', 'lively', 'lucky', 'merry', 'mild', 'misty', 'modest',
  'noble', 'odd', 'old', 'pale', 'plain', 'proud', 'quick', 'quiet', 'rapid', 'red', 'rich', 'royal',
  'shy', 'silent', 'silver', 'small', 'snowy', 'soft', 'solid', 'still', 'sunny', 'swift', 'tall', 'tidy',
  'vast', 'warm', 'wild', 'wise',
];
const NOUNS = [
  'river', 'fire', 'cloud', 'stone', 'leaf', 'wind', 'star', 'moon', 'field', 'lake', 'hill', 'forest',
  'meadow', 'ocean', 'rain', 'snow', 'sun', 'tree', 'wave', 'bird', 'brook', 'bush', 'cliff', 'dawn',
  'dew', 'dust', 'fog', 'frost', 'glade', 'grass', 'haze', 'island', 'marsh', 'mist', 'moss', 'night',
  'peak', 'pine', 'pond', 'reef', 'ridge', 'sea', 'shade', 'shore', 'sky', 'smoke', 'spark', 'spring',
  'storm', 'stream', 'surf', 'thunder', 'tide', 'trail', 'vale', 'valley', 'water', 'wood', 'bay', 'cove',
  'dune', 'fern', 'flame', 'harbor',
];

export function randomHostLabel(): string {
  const adjective = ADJECTIVES[randomInt(ADJECTIVES.length)];
  const noun = NOUNS[randomInt(NOUNS.length)];
  return `${adjective}-${noun}-${randomInt(10000, 100000)}`;
}

/** A single DNS label a user may ask for: 1-63 of [a-z0-9-], not starting or ending with '-'. */
export function isValidHostLabel(label: string): boolean {
  return /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(label);
}
