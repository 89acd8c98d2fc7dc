/*
 * How busy callers are at a given time, from 0 to 1, in UTC (Insights compares each minute with the
 * same time of day on earlier days, weekdays with weekdays, also in UTC). People work weekdays,
 * most between 10:00 and 17:00 and a little around the clock; automation runs day and night, more
 * when people push changes.
 */

export type ActivityPattern = (timeMs: number) => number;

const HOUR_MS = 3_600_000;
const WORKDAY_START_HOUR = 7;
const WORKDAY_HOURS = 13;
/** Some people are always on: the floor of office activity at night. */
const NIGHT_LEVEL = 0.08;
const WEEKEND_LEVEL = 0.25;
const AUTOMATION_FLOOR = 0.35;

function isWeekend(timeMs: number): boolean {
  const day = new Date(timeMs).getUTCDay();
  return day === 0 || day === 6;
}

/** 0 outside 07:00–20:00 UTC, rising smoothly to 1 at 13:30. */
function workdayShape(timeMs: number): number {
  const hour = (timeMs % (24 * HOUR_MS)) / HOUR_MS;
  const progress = (hour - WORKDAY_START_HOUR) / WORKDAY_HOURS;
  return progress <= 0 || progress >= 1 ? 0 : Math.sin(Math.PI * progress) ** 2;
}

/** People: a working day on weekdays, a quarter of it at weekends. */
export const officeHours: ActivityPattern = (timeMs) => {
  const level = NIGHT_LEVEL + (1 - NIGHT_LEVEL) * workdayShape(timeMs);
  return isWeekend(timeMs) ? level * WEEKEND_LEVEL : level;
};

/** Pipelines and schedulers: always running, busier when people push changes. */
export const automation: ActivityPattern = (timeMs) =>
  AUTOMATION_FLOOR + (1 - AUTOMATION_FLOOR) * officeHours(timeMs);

/** Someone probing at any hour. */
export const aroundTheClock: ActivityPattern = () => 1;
