//! Slot finder, commitments, series rules and their UK wall-clock behaviour.

use proptest::prelude::*;

use super::*;
use crate::core::uk_time;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn t(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap()
}

fn clinic(weekday: u8, from: NaiveTime, to: NaiveTime) -> Commitment {
    Commitment {
        weekday,
        starts: from,
        ends: to,
        label: "Clinic".into(),
        every_weeks: 1,
        anchor: None,
        from: None,
        until: None,
    }
}

fn person(n: u128, role: Role, must_attend: bool, commitments: Vec<Commitment>) -> Candidate {
    Candidate {
        id: Uuid::from_u128(n),
        role,
        must_attend,
        availability: Availability {
            commitments,
            absences: vec![],
            prefers_remote: false,
        },
    }
}

fn query(people: Vec<Candidate>) -> SlotQuery {
    SlotQuery {
        first_day: d(2026, 11, 30), // a Monday
        weeks: 2,
        weekdays: vec![0, 1, 2, 3, 4],
        earliest: t(8, 0),
        latest: t(18, 0),
        minutes: 60,
        step_minutes: 30,
        quorum: vec![(Role::Gp, 1), (Role::SocialWorker, 1)],
        people,
        booked: vec![],
    }
}

fn no_holidays() -> BankHolidays {
    BankHolidays {
        division: "test".into(),
        source: String::new(),
        dates: [d(2000, 1, 1)].into(),
    }
}

#[test]
fn commitments_repeat_weekly_or_fortnightly_within_their_dates() {
    let weekly = clinic(0, t(8, 30), t(12, 30));
    assert!(weekly.occurs_on(d(2026, 11, 30)));
    assert!(!weekly.occurs_on(d(2026, 12, 1)));
    let fortnightly = Commitment {
        every_weeks: 2,
        anchor: Some(d(2026, 12, 2)),
        ..clinic(3, t(13, 0), t(17, 0))
    };
    assert!(fortnightly.occurs_on(d(2026, 12, 3)));
    assert!(!fortnightly.occurs_on(d(2026, 12, 10)));
    assert!(fortnightly.occurs_on(d(2026, 12, 17)));
    let bounded = Commitment {
        from: Some(d(2026, 12, 7)),
        until: Some(d(2026, 12, 14)),
        ..weekly.clone()
    };
    assert!(
        !bounded.occurs_on(d(2026, 11, 30))
            && bounded.occurs_on(d(2026, 12, 7))
            && !bounded.occurs_on(d(2026, 12, 21))
    );
    assert!(Commitment {
        ends: t(8, 0),
        ..weekly.clone()
    }
    .validate()
    .is_err());
    assert!(Commitment {
        every_weeks: 2,
        ..weekly
    }
    .validate()
    .unwrap_err()
    .message
    .contains("week when it happens"));
}

#[test]
fn quorum_needs_every_role_and_the_finder_explains_clashes() {
    let q = query(vec![
        person(
            1,
            Role::Gp,
            false,
            vec![clinic(0, t(8, 0), t(13, 0)), clinic(1, t(8, 0), t(18, 0))],
        ),
        person(2, Role::SocialWorker, false, vec![]),
        person(
            3,
            Role::DistrictNurse,
            false,
            vec![clinic(0, t(14, 0), t(18, 0))],
        ),
    ]);
    let best = SlotFinder::new(&q, &no_holidays()).find(5);
    assert_eq!(best.len(), 5);
    let top = &best[0];
    assert!(top.quorum_met);
    assert_eq!(
        (top.required_free, top.optional_free),
        (2, 1),
        "GP, social worker and the district nurse free"
    );
    assert_eq!(
        (top.date, top.starts),
        (d(2026, 11, 30), t(13, 0)),
        "the earliest slot where everyone is free"
    );
    // A Tuesday slot lacks the GP (all-day clinic): it never outranks a slot with quorum.
    let tuesday = q.clone();
    let tuesday = SlotQuery {
        weekdays: vec![1],
        ..tuesday
    };
    let options = SlotFinder::new(&tuesday, &no_holidays()).find(3);
    assert!(options.iter().all(|o| !o.quorum_met));
    assert!(options[0]
        .clashes
        .contains(&(Uuid::from_u128(1), "Clinic".to_string())));
}

#[test]
fn ranking_prefers_quorum_then_required_then_optional_then_fewer_remote() {
    let mut remote_sw = person(2, Role::SocialWorker, false, vec![]);
    remote_sw.availability.prefers_remote = true;
    let q = SlotQuery {
        weekdays: vec![0],
        weeks: 1,
        ..query(vec![
            person(1, Role::Gp, false, vec![clinic(0, t(8, 0), t(10, 0))]),
            remote_sw,
            person(
                4,
                Role::SocialWorker,
                false,
                vec![clinic(0, t(8, 0), t(12, 0))],
            ),
            person(
                3,
                Role::Pharmacist,
                false,
                vec![clinic(0, t(8, 0), t(15, 0))],
            ),
        ])
    };
    let options = SlotFinder::new(&q, &no_holidays()).find(50);
    let key = |o: &SlotOption| {
        (
            o.quorum_met,
            o.required_free,
            o.optional_free,
            std::cmp::Reverse(o.remote),
        )
    };
    for pair in options.windows(2) {
        assert!(
            key(&pair[0]) >= key(&pair[1]),
            "{:?} before {:?}",
            pair[0],
            pair[1]
        );
        if key(&pair[0]) == key(&pair[1]) {
            assert!(
                (pair[0].date, pair[0].starts) < (pair[1].date, pair[1].starts),
                "ties go to the earlier slot"
            );
        }
    }
    assert_eq!(
        options[0].starts,
        t(15, 0),
        "GP, both social workers and the pharmacist free from 15:00"
    );
}

#[test]
fn bank_holidays_are_never_offered() {
    let q = SlotQuery {
        first_day: d(2026, 12, 21),
        weeks: 2,
        ..query(vec![
            person(1, Role::Gp, false, vec![]),
            person(2, Role::SocialWorker, false, vec![]),
        ])
    };
    let holidays = BankHolidays::shipped();
    let options = SlotFinder::new(&q, &holidays).find(500);
    assert!(!options.is_empty());
    for o in &options {
        assert!(
            ![d(2026, 12, 25), d(2026, 12, 28)].contains(&o.date),
            "{}",
            o.date
        );
    }
    let fridays = score_series(
        &q,
        &holidays,
        Recurrence::Weekly {
            interval: 1,
            weekday: 4,
        },
        d(2026, 12, 25),
        t(13, 0),
    );
    assert_eq!(
        fridays,
        (2, 0),
        "Christmas Day and New Year's Day count as misses"
    );
    let thursdays = score_series(
        &q,
        &holidays,
        Recurrence::Weekly {
            interval: 1,
            weekday: 3,
        },
        d(2026, 12, 24),
        t(13, 0),
    );
    assert_eq!(thursdays, (2, 2));
}

#[test]
fn absences_block_whole_days() {
    let mut gp = person(1, Role::Gp, true, vec![]);
    gp.availability.absences.push(Absence {
        from: d(2026, 11, 30),
        until: d(2026, 12, 4),
        label: "Annual leave".into(),
    });
    let q = query(vec![gp, person(2, Role::SocialWorker, false, vec![])]);
    let options = SlotFinder::new(&q, &no_holidays()).find(5);
    assert!(options.iter().all(|o| o.date >= d(2026, 12, 7)));
}

#[test]
fn a_weekly_13_00_series_stays_at_13_00_uk_time_across_both_clock_changes() {
    let rule = Recurrence::Weekly {
        interval: 1,
        weekday: 1,
    };
    let dates = rule.dates(d(2026, 3, 3), d(2026, 11, 24), MAX_OCCURRENCES);
    assert_eq!(dates.len(), 39);
    let mut utc_hours = std::collections::BTreeSet::new();
    for date in dates {
        let instant = uk_time::from_uk(date.and_time(t(13, 0))).unwrap();
        assert_eq!(uk_time::to_uk(instant).time(), t(13, 0), "{date}");
        utc_hours.insert(chrono::Timelike::hour(&instant));
    }
    assert_eq!(
        utc_hours,
        [12, 13].into(),
        "12:00 UTC in summer, 13:00 UTC in winter"
    );
    assert_eq!(rule.rrule(), "FREQ=WEEKLY;BYDAY=TU");
    assert_eq!(
        Recurrence::Weekly {
            interval: 2,
            weekday: 3
        }
        .rrule(),
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=TH"
    );
}

#[test]
fn monthly_second_tuesday_and_last_friday() {
    let second_tuesday = Recurrence::Monthly { nth: 2, weekday: 1 };
    assert_eq!(second_tuesday.rrule(), "FREQ=MONTHLY;BYDAY=2TU");
    assert_eq!(
        second_tuesday.dates(d(2026, 1, 13), d(2026, 6, 30), 100),
        vec![
            d(2026, 1, 13),
            d(2026, 2, 10),
            d(2026, 3, 10),
            d(2026, 4, 14),
            d(2026, 5, 12),
            d(2026, 6, 9)
        ]
    );
    let last_friday = Recurrence::Monthly {
        nth: -1,
        weekday: 4,
    };
    assert_eq!(last_friday.rrule(), "FREQ=MONTHLY;BYDAY=-1FR");
    assert_eq!(
        last_friday.dates(d(2026, 1, 1), d(2026, 3, 31), 100),
        vec![d(2026, 1, 30), d(2026, 2, 27), d(2026, 3, 27)]
    );
    assert_eq!(
        nth_weekday(2026, 2, 5, 0),
        None,
        "no fifth Monday in February 2026"
    );
}

#[test]
fn expansion_is_always_capped() {
    let weekly = Recurrence::Weekly {
        interval: 1,
        weekday: 0,
    };
    assert_eq!(
        weekly.dates(d(2026, 1, 5), d(2100, 1, 1), usize::MAX).len(),
        MAX_OCCURRENCES
    );
    assert_eq!(weekly.dates(d(2026, 1, 5), d(2100, 1, 1), 10).len(), 10);
    let monthly = Recurrence::Monthly { nth: 1, weekday: 0 };
    assert_eq!(
        monthly
            .dates(d(2026, 1, 5), d(2200, 1, 1), usize::MAX)
            .len(),
        MAX_OCCURRENCES
    );
}

#[test]
fn the_week_grid_shows_who_is_free_at_each_time_and_marks_bank_holidays() {
    // The GP has clinic Monday to Friday mornings; the social worker is away on Wednesday.
    let gp = person(
        1,
        Role::Gp,
        false,
        (0..5).map(|d| clinic(d, t(8, 30), t(12, 30))).collect(),
    );
    let mut sw = person(2, Role::SocialWorker, false, vec![]);
    sw.availability.absences.push(Absence {
        from: d(2026, 12, 2),
        until: d(2026, 12, 2),
        label: "Training".into(),
    });
    let q = SlotQuery {
        minutes: 60,
        ..query(vec![gp, sw])
    };
    let holidays = BankHolidays {
        division: "test".into(),
        source: String::new(),
        dates: [d(2026, 12, 4)].into(),
    };
    let finder = SlotFinder::new(&q, &holidays);
    let grid = finder.week(d(2026, 11, 30), 30);
    // 08:00 to 17:00 starts (a 60-minute meeting must finish by 18:00), every half hour.
    assert_eq!(grid.starts.first(), Some(&t(8, 0)));
    assert_eq!(grid.starts.last(), Some(&t(17, 0)));
    assert_eq!(grid.starts.len(), 19);
    assert_eq!(grid.days.len(), 5);
    let monday = &grid.days[0];
    let at = |day: &GridDay, time: NaiveTime| {
        day.slots[grid.starts.iter().position(|s| *s == time).unwrap()].clone()
    };
    let ten = at(monday, t(10, 0));
    assert!(!ten.quorum_met);
    assert_eq!(ten.free, vec![Uuid::from_u128(2)]);
    assert_eq!(
        ten.clashes,
        vec![(Uuid::from_u128(1), "Clinic".to_string())]
    );
    // 11:30–12:30 still overlaps the clinic; 12:30 is the first start both can make.
    assert!(!at(monday, t(11, 30)).quorum_met);
    assert!(at(monday, t(12, 30)).quorum_met);
    let wednesday = &grid.days[2];
    assert_eq!(
        at(wednesday, t(14, 0)).clashes,
        vec![(Uuid::from_u128(2), "Training".to_string())]
    );
    let friday = &grid.days[4];
    assert!(friday.bank_holiday && !monday.bank_holiday);
    assert!(friday.slots.iter().all(|s| !s.quorum_met));
    // The grid and the ranked list judge a slot the same way.
    for option in finder.find(20) {
        assert_eq!(finder.evaluate(option.date, option.starts), option);
    }
}

fn arb_commitment() -> impl Strategy<Value = Commitment> {
    (0u8..5, 16u32..36, 1u32..12, prop::bool::ANY).prop_map(
        |(weekday, start_half_hours, length_half_hours, fortnightly)| {
            let starts = t(start_half_hours / 2, (start_half_hours % 2) * 30);
            let ends_minutes = (start_half_hours + length_half_hours).min(47) * 30;
            Commitment {
                weekday,
                starts,
                ends: t(ends_minutes / 60, ends_minutes % 60).max(starts + Duration::minutes(30)),
                label: "Clinic".into(),
                every_weeks: if fortnightly { 2 } else { 1 },
                anchor: Some(d(2026, 11, 30)),
                from: None,
                until: None,
            }
        },
    )
}

proptest! {
    #[test]
    fn a_must_attend_persons_commitments_are_never_overlapped_and_quorum_is_counted_right(
        patterns in prop::collection::vec(prop::collection::vec(arb_commitment(), 0..4), 2..7),
        must in prop::collection::vec(prop::bool::ANY, 7),
        minutes in prop::sample::select(vec![30u32, 45, 60, 90]),
        step in prop::sample::select(vec![5u32, 15, 30]),
        booked in prop::collection::vec((0i64..14, 16u32..36, 1u32..6), 0..4),
    ) {
        let roles = [Role::Gp, Role::SocialWorker, Role::DistrictNurse, Role::Gp, Role::CareNavigator, Role::SocialWorker, Role::Pharmacist];
        let people: Vec<Candidate> = patterns
            .into_iter()
            .enumerate()
            .map(|(i, c)| person(i as u128 + 1, roles[i], must[i], c))
            .collect();
        let booked: Vec<Booked> = booked
            .into_iter()
            .map(|(day, start, length)| Booked {
                date: d(2026, 11, 30) + Duration::days(day),
                starts: t(start / 2, (start % 2) * 30),
                ends: t(start / 2, (start % 2) * 30) + Duration::minutes(i64::from(length) * 30),
            })
            .collect();
        let q = SlotQuery { minutes, step_minutes: step, booked, ..query(people) };
        // Every slot the window holds, not only the best few, so a bad one cannot hide.
        let options = SlotFinder::new(&q, &no_holidays()).find(5000);
        // The finder's internal ranking agrees with each slot judged on its own.
        let key = |o: &SlotOption| (o.quorum_met, o.required_free, o.optional_free, std::cmp::Reverse(o.remote));
        prop_assert!(options.windows(2).all(|w| key(&w[0]) >= key(&w[1])), "not in rank order");
        for option in options {
            for p in q.people.iter().filter(|p| p.must_attend) {
                prop_assert!(p.availability.clash(option.date, option.starts, option.ends).is_none(),
                    "{:?} offered over a must-attend commitment", option);
            }
            // Independently: quorum from who is actually free.
            let free: Vec<&Candidate> = q.people.iter().filter(|p| option.free.contains(&p.id)).collect();
            let quorum = q.quorum.iter().all(|(r, n)| free.iter().filter(|p| p.role == *r).count() as u32 >= *n);
            prop_assert!(!q.booked.iter().any(|b| b.overlaps(option.date, option.starts, option.ends)),
                "{:?} offered over the team's own meeting", option);
            prop_assert!(!option.team_meeting);
            prop_assert_eq!(option.quorum_met, quorum);
            prop_assert_eq!(option.free.len() + option.clashes.len(), q.people.len());
            prop_assert!(option.starts >= q.earliest && option.ends <= q.latest);
        }
    }
}

#[test]
fn the_teams_own_meetings_are_never_offered_and_count_against_a_series() {
    // Everyone is free all week, but the team already meets on Tuesdays 13:00–14:30.
    let people = vec![
        person(1, Role::Gp, false, vec![]),
        person(2, Role::SocialWorker, false, vec![]),
    ];
    let tuesday = |week: i64| d(2026, 12, 1) + Duration::weeks(week);
    let q = SlotQuery {
        weekdays: vec![1],
        weeks: 2,
        step_minutes: 30,
        booked: (0..2)
            .map(|w| Booked {
                date: tuesday(w),
                starts: t(13, 0),
                ends: t(14, 30),
            })
            .collect(),
        ..query(people)
    };
    let holidays = no_holidays();
    let finder = SlotFinder::new(&q, &holidays);
    let all = finder.find(1000);
    assert!(!all.is_empty());
    // A 60-minute meeting may end at 13:00 or start at 14:30, nothing in between.
    for o in &all {
        assert!(o.ends <= t(13, 0) || o.starts >= t(14, 30), "{o:?}");
    }
    assert!(all.iter().any(|o| o.ends == t(13, 0)));
    assert!(all.iter().any(|o| o.starts == t(14, 30)));
    // Judged on its own, the booked hour shows as the team's meeting and has no quorum.
    let over = finder.evaluate(tuesday(0), t(13, 30));
    assert!(over.team_meeting && !over.quorum_met, "{over:?}");
    assert_eq!(over.free.len(), 2, "people are free; the team is not");
    // The week grid marks the same cells.
    let grid = finder.week(d(2026, 11, 30), 30);
    let row = grid.starts.iter().position(|s| *s == t(13, 0)).unwrap();
    assert!(grid.days[0].slots[row].team_meeting);
    // A weekly series at the booked time fits none of its weeks.
    let weekly = Recurrence::Weekly {
        interval: 1,
        weekday: 1,
    };
    assert_eq!(
        score_series(&q, &no_holidays(), weekly, tuesday(0), t(13, 0)),
        (2, 0)
    );
    assert_eq!(
        score_series(&q, &no_holidays(), weekly, tuesday(0), t(9, 0)),
        (2, 2)
    );
}

#[test]
fn monthly_rules_offered_for_a_date_are_the_ones_it_fits() {
    let monthly = |nth: i8, weekday: u8| Recurrence::Monthly { nth, weekday };
    // Mon 30 Nov 2026 is the 5th Monday: only "the last Monday" (a "4th Monday" was offered
    // before, and the series it made was refused).
    assert_eq!(
        Recurrence::monthly_rules_on(d(2026, 11, 30)),
        vec![monthly(-1, 0)]
    );
    assert_eq!(monthly(-1, 0).describe(), "the last Monday of the month");
    // Mon 23 Nov 2026 is the 4th Monday, and not the last.
    assert_eq!(
        Recurrence::monthly_rules_on(d(2026, 11, 23)),
        vec![monthly(4, 0)]
    );
    // Tue 24 Nov 2026 is both the 4th and the last Tuesday.
    assert_eq!(
        Recurrence::monthly_rules_on(d(2026, 11, 24)),
        vec![monthly(4, 1), monthly(-1, 1)]
    );
    // The 1st of a month, and the 31st of December at the end of the stored dates' range.
    assert_eq!(
        Recurrence::monthly_rules_on(d(2026, 12, 1)),
        vec![monthly(1, 1)]
    );
    assert_eq!(
        Recurrence::monthly_rules_on(NaiveDate::MAX),
        vec![monthly(-1, weekday_index(NaiveDate::MAX.weekday()))]
    );
}

proptest! {
    /// Every monthly rule offered for a date matches it and starts on it, there is always one,
    /// and "the last" is offered exactly when the date is the last of its weekday in the month.
    #[test]
    fn every_monthly_rule_offered_fits_its_date(days in 0i64..(366 * 12)) {
        let date = d(2024, 1, 1) + Duration::days(days);
        let rules = Recurrence::monthly_rules_on(date);
        prop_assert!(!rules.is_empty());
        for rule in &rules {
            prop_assert!(rule.matches(date), "{:?} on {}", rule, date);
            prop_assert!(rule.validate().is_ok());
            prop_assert_eq!(rule.dates(date, date, 1), vec![date]);
        }
        let is_last = (date + Duration::weeks(1)).month() != date.month();
        prop_assert_eq!(
            rules.contains(&Recurrence::Monthly { nth: -1, weekday: weekday_index(date.weekday()) }),
            is_last
        );
    }
}

#[test]
fn the_week_grid_reaches_the_last_day_of_the_window_whatever_day_the_search_starts() {
    // A search made on any day of the week (issue 26: on a Saturday the window starts on a
    // Sunday and its weekdays fall in the next calendar week, which the grid could not reach).
    for offset in 0..7 {
        for weeks in [1, 2, 6] {
            let first_day = d(2026, 11, 30) + chrono::Duration::days(offset);
            let q = SlotQuery {
                first_day,
                weeks,
                ..query(vec![])
            };
            let monday = q.first_monday();
            assert_eq!(monday.weekday(), Weekday::Mon);
            // The first week shown holds a weekday of the window (Monday to Friday here).
            let first_weekday = (0..7)
                .map(|n| first_day + chrono::Duration::days(n))
                .find(|day| !uk_time::is_weekend(*day))
                .unwrap();
            assert!(
                monday <= first_weekday && first_weekday < monday + chrono::Duration::days(7),
                "from {first_day}: the grid opens on the week of {monday}"
            );
            let last_day = first_day + chrono::Duration::days(i64::from(weeks) * 7 - 1);
            let last_monday = monday + chrono::Duration::weeks(i64::from(q.grid_weeks()) - 1);
            assert!(
                last_monday <= last_day && last_day < last_monday + chrono::Duration::days(7),
                "from {first_day} for {weeks} weeks: grid to the week of {last_monday}"
            );
            // Monday: exactly the weeks asked for; Tuesday to Friday: one more (the window
            // ends mid-week); at the weekend the grid opens on the next Monday.
            let expected = match offset {
                0 | 5 | 6 => weeks,
                _ => weeks + 1,
            };
            assert_eq!(
                q.grid_weeks(),
                expected,
                "from {first_day} for {weeks} weeks"
            );
        }
    }
}

#[test]
fn the_grid_opens_on_a_week_with_a_day_to_choose() {
    // From every day of a fortnight, with and without the next days being bank holidays.
    let start = NaiveDate::from_ymd_opt(2031, 3, 3).unwrap();
    for offset in 0..14 {
        let first_day = start + chrono::Duration::days(offset);
        let q = SlotQuery {
            first_day,
            weeks: 4,
            ..query(vec![])
        };
        let open = |holidays: &BankHolidays| {
            let week = q.first_open_week(holidays);
            let monday = q.first_monday() + chrono::Duration::weeks(i64::from(week));
            let choosable = (0..5)
                .map(|d| monday + chrono::Duration::days(d))
                .filter(|d| *d >= first_day && !holidays.contains(*d))
                .count();
            (week, choosable)
        };
        let (week, choosable) = open(&no_holidays());
        assert!(
            choosable > 0,
            "from {first_day}: week {week} has a day to choose"
        );
        assert_eq!(
            week, 0,
            "from {first_day}: nothing in the way, the first week"
        );
        // The whole first open week's weekdays are bank holidays: the next week.
        let monday = q.first_monday();
        let blocked: Vec<NaiveDate> = (0..5).map(|d| monday + chrono::Duration::days(d)).collect();
        let holidays = BankHolidays {
            dates: blocked.into_iter().collect(),
            ..no_holidays()
        };
        let (week, choosable) = open(&holidays);
        assert_eq!(
            week, 1,
            "from {first_day}: a week of bank holidays is skipped"
        );
        assert!(choosable > 0);
    }
}
