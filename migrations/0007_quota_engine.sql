-- The quota engine (seed 000 sections 5.3-5.4 and 6.1-6.5, DESIGN.md section
-- 5): one atomic admission step that decides and records, reservations
-- that expire by themselves, periods that roll over lazily, daily rollups
-- maintained with the events, and the housekeeping `quota reset` runs.
--
-- Admission locks the organisation row, then the person's counter row, in
-- that order, inside one function call: however many callers race, the
-- recorded total never passes a limit. Nothing depends on cron: an
-- organisation's monthly counter rolls over when the first call after its
-- reset date arrives; reservations stop counting when they expire.

-- migrate:up

INSERT INTO aiplat.settings (key, value) VALUES
  ('usage_retention_months', '13'),
  ('event_id_retention_days', '7'),
  ('reservation_ttl_seconds', '600')
ON CONFLICT (key) DO NOTHING;

-- An organisation's month ends at local midnight in its time zone: the
-- reset date follows the zone when the organisation is created or moves.
CREATE FUNCTION aiplat.set_reset_date() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' OR NEW.time_zone IS DISTINCT FROM OLD.time_zone THEN
    NEW.token_reset_date := aiplat.period_end('monthly', NEW.time_zone, aiplat.clock());
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER organizations_reset_date BEFORE INSERT OR UPDATE OF time_zone ON aiplat.organizations
  FOR EACH ROW EXECUTE FUNCTION aiplat.set_reset_date();
UPDATE aiplat.organizations SET token_reset_date = aiplat.period_end('monthly', time_zone, aiplat.clock());

-- ---------------------------------------------------------------------------
-- Daily rollups: what reports read (never a scan of raw events)
-- ---------------------------------------------------------------------------

-- The rollups are derived data, written only by the quota functions (which
-- resolve the organisation first); they carry no foreign key, which would
-- cost a lookup per row on every bulk import. Deleting an organisation
-- deletes its rollups through a trigger instead (below).
CREATE TABLE aiplat.usage_daily (
  organization_id  uuid NOT NULL,
  day              date NOT NULL,
  model_id         bigint NOT NULL,
  user_id          uuid NOT NULL,
  tokens_in        bigint NOT NULL DEFAULT 0,
  tokens_out       bigint NOT NULL DEFAULT 0,
  requests         bigint NOT NULL DEFAULT 0,
  cost_micro_usd   bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (organization_id, day, model_id, user_id)
);
COMMENT ON TABLE aiplat.usage_daily IS
  'usage per organisation, local day (in its time zone), model and person; kept with the events';

-- The same per organisation, day and model: what reports that do not split
-- or filter by person read (a handful of rows per organisation and day,
-- however many people there are).
CREATE TABLE aiplat.usage_daily_models (
  organization_id  uuid NOT NULL,
  day              date NOT NULL,
  model_id         bigint NOT NULL,
  tokens_in        bigint NOT NULL DEFAULT 0,
  tokens_out       bigint NOT NULL DEFAULT 0,
  requests         bigint NOT NULL DEFAULT 0,
  cost_micro_usd   bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (organization_id, day, model_id)
);
COMMENT ON TABLE aiplat.usage_daily_models IS
  'usage per organisation, local day and model (usage_daily summed over people)';

CREATE FUNCTION aiplat.delete_org_rollups() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, aiplat AS $$
BEGIN
  DELETE FROM aiplat.usage_daily d USING deleted_orgs o WHERE d.organization_id = o.id;
  DELETE FROM aiplat.usage_daily_models d USING deleted_orgs o WHERE d.organization_id = o.id;
  RETURN NULL;
END
$$;
CREATE TRIGGER organizations_delete_rollups AFTER DELETE ON aiplat.organizations
  REFERENCING OLD TABLE AS deleted_orgs
  FOR EACH STATEMENT EXECUTE FUNCTION aiplat.delete_org_rollups();

SELECT aiplat.apply_usage_read_policy('aiplat.usage_daily_models', false);
SELECT aiplat.apply_usage_read_policy('aiplat.usage_daily', true);

-- Model names for reports: usage stays attributed to a model that was
-- deactivated or disabled since (which the catalogue policy then hides).
CREATE FUNCTION aiplat.model_name(model_id bigint) RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, aiplat AS $$
  SELECT coalesce((SELECT name FROM aiplat.ai_models_system WHERE id = model_id), '#' || model_id)
$$;
GRANT EXECUTE ON FUNCTION aiplat.model_name(bigint) TO aiplat_app;

-- A member of an organisation by email or id, for those who may read its
-- members or its usage (people without members:manage cannot look others
-- up through aiplat.find_user_id).
CREATE FUNCTION aiplat.member_user_id(org uuid, ident text) RETURNS uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, aiplat AS $$
  SELECT u.id FROM aiplat.users u
    JOIN aiplat.organization_members m ON m.user_id = u.id AND m.organization_id = org
   WHERE (lower(u.email) = lower(ident) OR u.id::text = ident)
     AND (aiplat.current_user_id() IS NULL OR aiplat.is_superadmin()
          OR u.id = aiplat.current_user_id()
          OR aiplat.has_permission(org, 'members', 'read')
          OR aiplat.has_permission(org, 'usage', 'read_all'))
$$;
REVOKE ALL ON FUNCTION aiplat.member_user_id(uuid, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aiplat.member_user_id(uuid, text) TO aiplat_app;

-- ---------------------------------------------------------------------------
-- Requests per person and day (seed 003 1.2.7): counted in the admission
-- step, under the organisation's lock, per local day.
-- ---------------------------------------------------------------------------

CREATE TABLE aiplat.request_counters (
  organization_id  uuid NOT NULL REFERENCES aiplat.organizations (id) ON DELETE CASCADE,
  user_id          uuid NOT NULL REFERENCES aiplat.users (id) ON DELETE CASCADE,
  day              date NOT NULL,
  requests         integer NOT NULL DEFAULT 0 CHECK (requests >= 0),
  PRIMARY KEY (organization_id, user_id, day)
);
COMMENT ON TABLE aiplat.request_counters IS
  'admitted requests (consume, reserve) per person and local day, for the daily request limit';
SELECT aiplat.apply_usage_read_policy('aiplat.request_counters', true);

-- A feature flag as the organisation sees it: its own row wins over the
-- global one; NULL when neither exists.
CREATE FUNCTION aiplat.effective_flag(org uuid, flag text, OUT enabled boolean, OUT value jsonb)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, aiplat AS $$
BEGIN
  SELECT f.enabled, f.value INTO enabled, value FROM aiplat.feature_flags f
   WHERE f.name = flag AND (f.organization_id = org OR f.organization_id IS NULL)
   ORDER BY f.organization_id NULLS LAST LIMIT 1;
END
$$;
GRANT EXECUTE ON FUNCTION aiplat.effective_flag(uuid, text) TO aiplat_app;

-- Requests a person may make per day: the flag ai.daily_requests when it
-- is on and carries a number ({"limit": N} or N), else the plan's
-- daily_request_limit; NULL means no limit.
CREATE FUNCTION aiplat.daily_request_limit(org uuid) RETURNS integer
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, aiplat AS $$
DECLARE
  f record;
  n jsonb;
BEGIN
  f := aiplat.effective_flag(org, 'ai.daily_requests');
  IF f.enabled THEN
    n := CASE jsonb_typeof(f.value) WHEN 'object' THEN f.value -> 'limit' ELSE f.value END;
    IF jsonb_typeof(n) = 'number' AND (n #>> '{}')::numeric >= 1 THEN
      RETURN least((n #>> '{}')::numeric, 2147483647)::integer;
    END IF;
  END IF;
  RETURN (SELECT p.daily_request_limit FROM aiplat.organizations o
            JOIN aiplat.plans p ON p.code = o.pricing_plan WHERE o.id = org);
END
$$;
GRANT EXECUTE ON FUNCTION aiplat.daily_request_limit(uuid) TO aiplat_app;

-- ---------------------------------------------------------------------------
-- Decisions
-- ---------------------------------------------------------------------------

CREATE TYPE aiplat.quota_decision AS (
  allowed          boolean,
  reason           text,      -- ok, model_free, duplicate, or why not
  used             bigint,    -- of the constraint that decided (or the person's)
  lim              bigint,
  resets_at        timestamptz,
  user_used        bigint,
  user_limit       bigint,
  user_period      text,
  user_resets_at   timestamptz,
  org_used         bigint,
  org_quota        bigint,
  org_resets_at    timestamptz,
  event_id         uuid,
  reservation_id   uuid,
  organization_id  uuid,
  user_id          uuid,
  model_id         bigint,
  cost_micro_usd   bigint,
  requests_today   bigint,    -- admitted requests of the person today (local day)
  request_limit    bigint,    -- the daily request limit, NULL: none
  requests_reset_at timestamptz
);
COMMENT ON TYPE aiplat.quota_decision IS
  'the outcome of aiplat.quota_admit; reason is ok, model_free or duplicate when allowed, else '
  'not_a_member, model_inactive, plan_insufficient, model_not_enabled, trial_expired, '
  'rate_limited, org_quota_exceeded or user_limit_exceeded';

-- Organisation by slug or id, person by email or id, model by name or id;
-- unknown ones are invalid input (22023).
CREATE FUNCTION aiplat.quota_refs(p_org text, p_user text, p_model text,
                                  OUT org_id uuid, OUT user_id uuid, OUT model_id bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, aiplat AS $$
DECLARE
  uuid_re constant text := '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
BEGIN
  IF p_org ~ uuid_re THEN
    SELECT o.id INTO org_id FROM aiplat.organizations o WHERE o.id = p_org::uuid;
  ELSE
    SELECT o.id INTO org_id FROM aiplat.organizations o WHERE o.slug = p_org;
  END IF;
  IF org_id IS NULL THEN
    RAISE EXCEPTION 'no organization %', coalesce(p_org, '(none)') USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF p_user ~ uuid_re THEN
    SELECT u.id INTO user_id FROM aiplat.users u WHERE u.id = p_user::uuid;
  ELSE
    SELECT u.id INTO user_id FROM aiplat.users u WHERE lower(u.email) = lower(p_user);
  END IF;
  IF user_id IS NULL THEN
    RAISE EXCEPTION 'no user %', coalesce(p_user, '(none)') USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF p_model ~ '^[0-9]{1,18}$' THEN
    SELECT m.id INTO model_id FROM aiplat.ai_models_system m WHERE m.id = p_model::bigint;
  ELSE
    SELECT m.id INTO model_id FROM aiplat.ai_models_system m WHERE lower(m.name) = lower(p_model);
  END IF;
  IF model_id IS NULL THEN
    RAISE EXCEPTION 'no model %', coalesce(p_model, '(none)') USING ERRCODE = 'invalid_parameter_value';
  END IF;
END
$$;

-- People may act only for themselves (and read others' decisions with
-- usage:read_all); the platform and superadmins for anyone.
CREATE FUNCTION aiplat.quota_authorize(org uuid, usr uuid, writing boolean) RETURNS void
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, aiplat AS $$
DECLARE
  me uuid := aiplat.current_user_id();
BEGIN
  IF me IS NULL OR aiplat.is_superadmin() THEN
    RETURN;
  END IF;
  IF me = usr AND aiplat.has_permission(org, 'usage', CASE WHEN writing THEN 'write' ELSE 'read' END) THEN
    RETURN;
  END IF;
  IF NOT writing AND aiplat.has_permission(org, 'usage', 'read_all') THEN
    RETURN;
  END IF;
  RAISE EXCEPTION 'not allowed to % usage for this person', CASE WHEN writing THEN 'record' ELSE 'read' END
    USING ERRCODE = 'insufficient_privilege';
END
$$;

-- Records one event and everything kept with it: the person's counter for
-- the period containing it, the organisation's monthly counter (when the
-- event falls in its current month and the model is not free), and the
-- daily rollup. The caller holds the organisation row lock.
CREATE FUNCTION aiplat.record_usage(o aiplat.organizations, m aiplat.ai_models_system, usr uuid,
                                    at timestamptz, ev uuid, tin bigint, tout bigint,
                                    latency integer, request text, src text, reservation uuid)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, aiplat AS $$
DECLARE
  period text := coalesce(m.token_limit_period, 'monthly');
  cost bigint := round(tin * m.price_input_per_mtok + tout * m.price_output_per_mtok)::bigint;
  total bigint := tin + tout;
BEGIN
  PERFORM aiplat.ensure_usage_partition((at AT TIME ZONE 'UTC')::date);
  INSERT INTO aiplat.usage_events (organization_id, occurred_at, event_id, user_id, model_id,
                                   tokens_in, tokens_out, latency_ms, request_id, cost_micro_usd,
                                   reservation_id, source)
  VALUES (o.id, at, ev, usr, m.id, tin, tout, latency, request, cost, reservation, src);
  INSERT INTO aiplat.ai_model_usage AS u (organization_id, user_id, model_id, model_name, period_type,
                                          period_start, period_end, tokens_used, requests_count)
  VALUES (o.id, usr, m.id, m.name, period, aiplat.period_start(period, o.time_zone, at),
          aiplat.period_end(period, o.time_zone, at), total, 1)
  ON CONFLICT (organization_id, user_id, model_id, period_type, period_start) DO UPDATE
    SET tokens_used = u.tokens_used + EXCLUDED.tokens_used,
        requests_count = u.requests_count + 1, updated_at = now();
  IF NOT m.is_free AND at >= aiplat.period_start('monthly', o.time_zone, o.token_reset_date - interval '1 second')
     AND at < o.token_reset_date THEN
    UPDATE aiplat.organizations SET token_usage_current = token_usage_current + total WHERE id = o.id;
  END IF;
  INSERT INTO aiplat.usage_daily AS d (organization_id, day, model_id, user_id, tokens_in, tokens_out,
                                       requests, cost_micro_usd)
  VALUES (o.id, (at AT TIME ZONE o.time_zone)::date, m.id, usr, tin, tout, 1, cost)
  ON CONFLICT (organization_id, day, model_id, user_id) DO UPDATE
    SET tokens_in = d.tokens_in + EXCLUDED.tokens_in, tokens_out = d.tokens_out + EXCLUDED.tokens_out,
        requests = d.requests + 1, cost_micro_usd = d.cost_micro_usd + EXCLUDED.cost_micro_usd;
  INSERT INTO aiplat.usage_daily_models AS d (organization_id, day, model_id, tokens_in, tokens_out,
                                              requests, cost_micro_usd)
  VALUES (o.id, (at AT TIME ZONE o.time_zone)::date, m.id, tin, tout, 1, cost)
  ON CONFLICT (organization_id, day, model_id) DO UPDATE
    SET tokens_in = d.tokens_in + EXCLUDED.tokens_in, tokens_out = d.tokens_out + EXCLUDED.tokens_out,
        requests = d.requests + 1, cost_micro_usd = d.cost_micro_usd + EXCLUDED.cost_micro_usd;
  RETURN cost;
END
$$;
REVOKE ALL ON FUNCTION aiplat.record_usage(aiplat.organizations, aiplat.ai_models_system, uuid,
  timestamptz, uuid, bigint, bigint, integer, text, text, uuid) FROM PUBLIC;

-- The organisation row, locked, with its monthly counter rolled over when
-- the reset date has passed (lazily: no cron needed).
CREATE FUNCTION aiplat.lock_org(org uuid, now_ timestamptz) RETURNS aiplat.organizations
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, aiplat AS $$
DECLARE
  o aiplat.organizations;
BEGIN
  SELECT * INTO o FROM aiplat.organizations WHERE id = org FOR UPDATE;
  IF now_ >= o.token_reset_date THEN
    UPDATE aiplat.organizations
       SET token_usage_current = 0,
           token_reset_date = aiplat.period_end('monthly', time_zone, now_)
     WHERE id = org
    RETURNING * INTO o;
  END IF;
  RETURN o;
END
$$;
REVOKE ALL ON FUNCTION aiplat.lock_org(uuid, timestamptz) FROM PUBLIC;

/*
 * The admission step. p_mode:
 *   check    decide, record nothing, take no locks
 *   consume  decide and, when allowed, record p_tokens (tokens in/out when
 *            given) as one event, atomically
 *   reserve  decide and, when allowed, hold p_tokens for p_ttl
 *   record   record without deciding (usage that already happened)
 * Decision order (seed 000 6.3, with the catalogue's rules first): the
 * person must belong to the organisation; the model must be active,
 * within the plan, enabled and not an expired trial; a free model is then
 * allowed; else the organisation's monthly quota, then the person's limit
 * for the model's period, each counting active reservations.
 */
CREATE FUNCTION aiplat.quota_admit(p_org text, p_user text, p_model text, p_tokens bigint,
                                   p_mode text DEFAULT 'check', p_event_id uuid DEFAULT NULL,
                                   p_tokens_in bigint DEFAULT NULL, p_tokens_out bigint DEFAULT NULL,
                                   p_latency_ms integer DEFAULT NULL, p_request_id text DEFAULT NULL,
                                   p_ttl interval DEFAULT NULL, p_at timestamptz DEFAULT NULL)
RETURNS aiplat.quota_decision
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, aiplat AS $$
DECLARE
  now_ timestamptz := aiplat.clock();
  writing boolean := p_mode IN ('consume', 'reserve', 'record');
  refs record;
  o aiplat.organizations;
  m aiplat.ai_models_system;
  c aiplat.org_system_model_config;
  d aiplat.quota_decision;
  avail text;
  period text;
  ps timestamptz;
  quota bigint;
  reserved bigint;
  used bigint;
  tin bigint;
  tout bigint;
  at timestamptz;
  today date;
BEGIN
  IF p_mode NOT IN ('check', 'consume', 'reserve', 'record') THEN
    RAISE EXCEPTION 'unknown quota mode %', p_mode USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF p_tokens IS NULL OR p_tokens < 0 OR (p_mode <> 'record' AND p_tokens = 0) THEN
    RAISE EXCEPTION 'tokens must be a positive number' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  refs := aiplat.quota_refs(p_org, p_user, p_model);
  PERFORM aiplat.quota_authorize(refs.org_id, refs.user_id, writing);
  d.organization_id := refs.org_id;
  d.user_id := refs.user_id;
  d.model_id := refs.model_id;
  SELECT * INTO m FROM aiplat.ai_models_system WHERE id = refs.model_id;
  SELECT * INTO c FROM aiplat.org_system_model_config
   WHERE organization_id = refs.org_id AND system_model_id = refs.model_id;
  /* Locks in a fixed order: the organisation, then the person's counter. */
  IF writing THEN
    o := aiplat.lock_org(refs.org_id, now_);
  ELSE
    SELECT * INTO o FROM aiplat.organizations WHERE id = refs.org_id;
    IF now_ >= o.token_reset_date THEN   -- as it will be at the next write
      o.token_usage_current := 0;
      o.token_reset_date := aiplat.period_end('monthly', o.time_zone, now_);
    END IF;
  END IF;
  period := coalesce(m.token_limit_period, 'monthly');
  ps := aiplat.period_start(period, o.time_zone, now_);
  d.user_period := period;
  d.user_resets_at := aiplat.period_end(period, o.time_zone, now_);
  d.user_limit := CASE WHEN m.is_free THEN NULL ELSE coalesce(c.token_limit_per_user, m.token_limit_amount) END;
  d.org_quota := aiplat.effective_quota(o.id);
  d.org_resets_at := o.token_reset_date;
  /* Active reservations count until they expire, whoever cleans them up (free models never count). */
  SELECT coalesce(sum(r.tokens), 0) INTO reserved
    FROM aiplat.quota_reservations r JOIN aiplat.ai_models_system rm ON rm.id = r.model_id
   WHERE r.organization_id = o.id AND r.status = 'active' AND r.expires_at > now_ AND NOT rm.is_free;
  d.org_used := o.token_usage_current + reserved;

  IF p_mode <> 'record' THEN
    avail := aiplat.model_availability(m.id, o.id);
    d.reason := CASE
      WHEN NOT EXISTS (SELECT 1 FROM aiplat.organization_members mm
                        WHERE mm.organization_id = o.id AND mm.user_id = refs.user_id) THEN 'not_a_member'
      WHEN avail = 'model_inactive' THEN 'model_inactive'
      WHEN avail = 'plan_insufficient' THEN 'plan_insufficient'
      WHEN avail <> 'available' OR c.system_model_id IS NULL OR NOT c.is_enabled_for_users
        THEN 'model_not_enabled'
      WHEN m.is_trial AND c.enabled_at + make_interval(days => m.trial_expires_days) <= now_
        THEN 'trial_expired'
      WHEN m.is_free THEN 'model_free'
    END;
    /* Requests per day, free models included (seed 003 1.2.7). */
    d.request_limit := aiplat.daily_request_limit(o.id);
    IF d.request_limit IS NOT NULL THEN
      today := (now_ AT TIME ZONE o.time_zone)::date;
      SELECT requests INTO d.requests_today FROM aiplat.request_counters
       WHERE organization_id = o.id AND user_id = refs.user_id AND day = today;
      d.requests_today := coalesce(d.requests_today, 0);
      d.requests_reset_at := (today + 1)::timestamp AT TIME ZONE o.time_zone;
      IF (d.reason IS NULL OR d.reason = 'model_free') AND d.requests_today >= d.request_limit THEN
        d.reason := 'rate_limited';
      END IF;
    END IF;
  END IF;

  /* The person's counter for the current period: created and locked when writing. */
  IF writing THEN
    INSERT INTO aiplat.ai_model_usage (organization_id, user_id, model_id, model_name, period_type,
                                       period_start, period_end)
    VALUES (o.id, refs.user_id, m.id, m.name, period, ps, d.user_resets_at)
    ON CONFLICT (organization_id, user_id, model_id, period_type, period_start) DO NOTHING;
    SELECT tokens_used INTO used FROM aiplat.ai_model_usage
     WHERE organization_id = o.id AND user_id = refs.user_id AND model_id = m.id
       AND period_type = period AND period_start = ps
       FOR UPDATE;
  ELSE
    SELECT tokens_used INTO used FROM aiplat.ai_model_usage
     WHERE organization_id = o.id AND user_id = refs.user_id AND model_id = m.id
       AND period_type = period AND period_start = ps;
  END IF;
  SELECT coalesce(sum(r.tokens), 0) INTO reserved FROM aiplat.quota_reservations r
   WHERE r.organization_id = o.id AND r.user_id = refs.user_id AND r.model_id = m.id
     AND r.status = 'active' AND r.expires_at > now_;
  d.user_used := coalesce(used, 0) + reserved;

  IF d.reason IS NULL AND p_mode <> 'record' THEN
    IF d.org_quota IS NOT NULL AND d.org_used + p_tokens > d.org_quota THEN
      d.reason := 'org_quota_exceeded';
    ELSIF d.user_limit IS NOT NULL AND d.user_used + p_tokens > d.user_limit THEN
      d.reason := 'user_limit_exceeded';
    ELSE
      d.reason := 'ok';
    END IF;
  END IF;
  d.allowed := p_mode = 'record' OR d.reason IN ('ok', 'model_free');
  IF p_mode = 'record' THEN
    d.reason := 'ok';
  END IF;
  IF d.reason = 'org_quota_exceeded' THEN
    d.used := d.org_used; d.lim := d.org_quota; d.resets_at := d.org_resets_at;
  ELSIF d.reason = 'rate_limited' THEN
    d.used := d.requests_today; d.lim := d.request_limit; d.resets_at := d.requests_reset_at;
  ELSE
    d.used := d.user_used; d.lim := d.user_limit; d.resets_at := d.user_resets_at;
  END IF;
  IF NOT d.allowed OR p_mode = 'check' THEN
    RETURN d;
  END IF;
  IF d.request_limit IS NOT NULL AND p_mode IN ('consume', 'reserve') THEN
    INSERT INTO aiplat.request_counters AS rc (organization_id, user_id, day, requests)
    VALUES (o.id, refs.user_id, today, 1)
    ON CONFLICT (organization_id, user_id, day) DO UPDATE SET requests = rc.requests + 1;
    d.requests_today := d.requests_today + 1;
  END IF;

  IF p_mode = 'reserve' THEN
    INSERT INTO aiplat.quota_reservations (organization_id, user_id, model_id, tokens, request_id,
                                           created_at, expires_at)
    VALUES (o.id, refs.user_id, m.id, p_tokens, p_request_id, now_,
            now_ + coalesce(p_ttl, make_interval(secs => (SELECT value::int FROM aiplat.settings
                                                            WHERE key = 'reservation_ttl_seconds'))))
    RETURNING id INTO d.reservation_id;
    /* Report the usage as it now stands, the hold included. */
    d.user_used := d.user_used + p_tokens;
    IF NOT m.is_free THEN
      d.org_used := d.org_used + p_tokens;
    END IF;
    d.used := d.used + p_tokens;
    RETURN d;
  END IF;

  /* consume / record: idempotent by event id, then everything in one go. */
  d.event_id := coalesce(p_event_id, gen_random_uuid());
  at := coalesce(p_at, now_);
  IF p_event_id IS NOT NULL THEN
    INSERT INTO aiplat.usage_event_ids (organization_id, event_id, occurred_at)
    VALUES (o.id, p_event_id, at) ON CONFLICT DO NOTHING;
    /* Remembered live, or imported (an event is its organisation, time and id). */
    IF NOT FOUND OR EXISTS (SELECT 1 FROM aiplat.usage_events e
                             WHERE e.organization_id = o.id AND e.occurred_at = at
                               AND e.event_id = p_event_id) THEN
      d.reason := 'duplicate';
      RETURN d;
    END IF;
  END IF;
  tin := coalesce(p_tokens_in, p_tokens - coalesce(p_tokens_out, 0));
  tout := coalesce(p_tokens_out, 0);
  IF tin < 0 OR tin + tout <> p_tokens THEN
    RAISE EXCEPTION 'tokens in (%) and out (%) do not add up to %', tin, tout, p_tokens
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  d.cost_micro_usd := aiplat.record_usage(o, m, refs.user_id, at, d.event_id, tin, tout,
                                          p_latency_ms, p_request_id, p_mode, NULL);
  /* Report the usage as it now stands: the period the event fell in (a
   * recorded event may belong to an earlier one), and the organisation's
   * month when it counted there. */
  IF aiplat.period_start(period, o.time_zone, at) = ps THEN
    d.user_used := d.user_used + p_tokens;
  ELSE
    SELECT tokens_used INTO used FROM aiplat.ai_model_usage
     WHERE organization_id = o.id AND user_id = refs.user_id AND model_id = m.id
       AND period_type = period AND period_start = aiplat.period_start(period, o.time_zone, at);
    d.user_used := used;
    d.user_resets_at := aiplat.period_end(period, o.time_zone, at);
  END IF;
  IF NOT m.is_free AND at >= aiplat.period_start('monthly', o.time_zone, o.token_reset_date - interval '1 second')
     AND at < o.token_reset_date THEN
    d.org_used := d.org_used + p_tokens;
  END IF;
  d.used := d.user_used;
  d.resets_at := d.user_resets_at;
  RETURN d;
END
$$;
COMMENT ON FUNCTION aiplat.quota_admit(text, text, text, bigint, text, uuid, bigint, bigint, integer,
  text, interval, timestamptz) IS
  'decide (and with consume/reserve/record, record) in one atomic step; see the migration for the order';

-- Settles a reservation at the provider's real usage (which may exceed the
-- estimate: the call happened) and frees the rest; or releases it.
CREATE FUNCTION aiplat.quota_finish(p_reservation uuid, p_settle boolean,
                                    p_tokens_in bigint DEFAULT NULL, p_tokens_out bigint DEFAULT 0,
                                    p_latency_ms integer DEFAULT NULL, p_request_id text DEFAULT NULL,
                                    p_source text DEFAULT 'settle')
RETURNS aiplat.quota_decision
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, aiplat AS $$
DECLARE
  now_ timestamptz := aiplat.clock();
  r aiplat.quota_reservations;
  o aiplat.organizations;
  m aiplat.ai_models_system;
  d aiplat.quota_decision;
BEGIN
  SELECT * INTO r FROM aiplat.quota_reservations WHERE id = p_reservation;
  IF r.id IS NULL THEN
    RAISE EXCEPTION 'no reservation %', p_reservation USING ERRCODE = 'invalid_parameter_value';
  END IF;
  PERFORM aiplat.quota_authorize(r.organization_id, r.user_id, true);
  /* Same lock order as admission: the organisation first. */
  o := aiplat.lock_org(r.organization_id, now_);
  SELECT * INTO r FROM aiplat.quota_reservations
   WHERE organization_id = r.organization_id AND id = p_reservation FOR UPDATE;
  IF r.status <> 'active' THEN
    RAISE EXCEPTION 'reservation % is already %', p_reservation, r.status
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  d.organization_id := r.organization_id;
  d.user_id := r.user_id;
  d.model_id := r.model_id;
  d.reservation_id := r.id;
  d.allowed := true;
  IF NOT p_settle THEN
    UPDATE aiplat.quota_reservations SET status = 'released', finished_at = now_
     WHERE organization_id = r.organization_id AND id = r.id;
    d.reason := 'released';
    RETURN d;
  END IF;
  IF p_tokens_in IS NULL OR p_tokens_in < 0 OR coalesce(p_tokens_out, 0) < 0 THEN
    RAISE EXCEPTION 'settle needs the tokens used' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF p_source NOT IN ('settle', 'ai') THEN
    RAISE EXCEPTION 'unknown usage source %', p_source USING ERRCODE = 'invalid_parameter_value';
  END IF;
  SELECT * INTO m FROM aiplat.ai_models_system WHERE id = r.model_id;
  d.event_id := gen_random_uuid();
  d.cost_micro_usd := aiplat.record_usage(o, m, r.user_id, now_, d.event_id, p_tokens_in,
                                          coalesce(p_tokens_out, 0), p_latency_ms,
                                          coalesce(p_request_id, r.request_id), p_source, r.id);
  UPDATE aiplat.quota_reservations
     SET status = 'settled', settled_tokens = p_tokens_in + coalesce(p_tokens_out, 0), finished_at = now_
   WHERE organization_id = r.organization_id AND id = r.id;
  d.reason := 'settled';
  d.used := p_tokens_in + coalesce(p_tokens_out, 0);
  RETURN d;
END
$$;

-- ---------------------------------------------------------------------------
-- Bulk import support: the importer COPYs events straight into their
-- partitions and its per-day totals into pg_temp.usage_import_deltas; this
-- folds those totals into the rollups and counters, organisations locked
-- first (in id order) like every other writer.
-- ---------------------------------------------------------------------------

CREATE FUNCTION aiplat.apply_usage_deltas() RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, aiplat AS $$
DECLARE
  now_ timestamptz := aiplat.clock();
  org uuid;
  n bigint;
BEGIN
  FOR org IN SELECT DISTINCT organization_id FROM pg_temp.usage_import_deltas ORDER BY 1 LOOP
    PERFORM aiplat.lock_org(org, now_);
  END LOOP;
  INSERT INTO aiplat.usage_daily AS d (organization_id, day, model_id, user_id, tokens_in, tokens_out,
                                       requests, cost_micro_usd)
  SELECT organization_id, day, model_id, user_id, tokens_in, tokens_out, requests, cost_micro_usd
    FROM pg_temp.usage_import_deltas
   ORDER BY organization_id, day, model_id, user_id
  ON CONFLICT (organization_id, day, model_id, user_id) DO UPDATE
    SET tokens_in = d.tokens_in + EXCLUDED.tokens_in, tokens_out = d.tokens_out + EXCLUDED.tokens_out,
        requests = d.requests + EXCLUDED.requests,
        cost_micro_usd = d.cost_micro_usd + EXCLUDED.cost_micro_usd;
  GET DIAGNOSTICS n = ROW_COUNT;
  INSERT INTO aiplat.usage_daily_models AS d (organization_id, day, model_id, tokens_in, tokens_out,
                                              requests, cost_micro_usd)
  SELECT organization_id, day, model_id, sum(tokens_in), sum(tokens_out), sum(requests),
         sum(cost_micro_usd)
    FROM pg_temp.usage_import_deltas
   GROUP BY 1, 2, 3
   ORDER BY 1, 2, 3
  ON CONFLICT (organization_id, day, model_id) DO UPDATE
    SET tokens_in = d.tokens_in + EXCLUDED.tokens_in, tokens_out = d.tokens_out + EXCLUDED.tokens_out,
        requests = d.requests + EXCLUDED.requests,
        cost_micro_usd = d.cost_micro_usd + EXCLUDED.cost_micro_usd;
  /* Days are local already: group them into periods first (as
   * aiplat.period_start would, from local midnight), convert once per period. */
  WITH g AS (
    SELECT x.organization_id, x.user_id, x.model_id, p.period,
           date_trunc(CASE p.period WHEN 'daily' THEN 'day' WHEN 'weekly' THEN 'week' ELSE 'month' END,
                      x.day::timestamp) AS local_start,
           sum(x.tokens_in + x.tokens_out) AS tokens, sum(x.requests) AS requests
      FROM pg_temp.usage_import_deltas x
      JOIN aiplat.ai_models_system m ON m.id = x.model_id
     CROSS JOIN LATERAL (SELECT coalesce(m.token_limit_period, 'monthly') AS period) p
     GROUP BY 1, 2, 3, 4, 5)
  INSERT INTO aiplat.ai_model_usage AS u (organization_id, user_id, model_id, model_name, period_type,
                                          period_start, period_end, tokens_used, requests_count)
  SELECT g.organization_id, g.user_id, g.model_id, m.name, g.period,
         g.local_start AT TIME ZONE o.time_zone,
         (g.local_start + CASE g.period WHEN 'daily' THEN interval '1 day' WHEN 'weekly' THEN interval '7 days'
                                        ELSE interval '1 month' END) AT TIME ZONE o.time_zone,
         g.tokens, g.requests
    FROM g
    JOIN aiplat.organizations o ON o.id = g.organization_id
    JOIN aiplat.ai_models_system m ON m.id = g.model_id
   ORDER BY 1, 2, 3, 5, 6
  ON CONFLICT (organization_id, user_id, model_id, period_type, period_start) DO UPDATE
    SET tokens_used = u.tokens_used + EXCLUDED.tokens_used,
        requests_count = u.requests_count + EXCLUDED.requests_count, updated_at = now();
  UPDATE aiplat.organizations o
     SET token_usage_current = o.token_usage_current + x.tokens
    FROM (SELECT d.organization_id, sum(d.tokens_in + d.tokens_out) AS tokens
            FROM pg_temp.usage_import_deltas d
            JOIN aiplat.organizations oo ON oo.id = d.organization_id
            JOIN aiplat.ai_models_system m ON m.id = d.model_id
           WHERE NOT m.is_free
             AND d.day::timestamp AT TIME ZONE oo.time_zone
                 >= aiplat.period_start('monthly', oo.time_zone, oo.token_reset_date - interval '1 second')
             AND d.day::timestamp AT TIME ZONE oo.time_zone < oo.token_reset_date
           GROUP BY 1) x
   WHERE o.id = x.organization_id;
  RETURN n;
END
$$;
REVOKE ALL ON FUNCTION aiplat.apply_usage_deltas() FROM PUBLIC;

-- ---------------------------------------------------------------------------
-- Housekeeping (`aiplat quota reset`, for cron): idempotent; the caller
-- holds the advisory lock that keeps runs from overlapping.
-- ---------------------------------------------------------------------------

CREATE FUNCTION aiplat.quota_housekeeping(
  OUT rolled_over bigint, OUT reservations_expired bigint, OUT counters_pruned bigint,
  OUT event_ids_pruned bigint, OUT partitions_dropped bigint, OUT partitions_created bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, aiplat AS $$
DECLARE
  now_ timestamptz := aiplat.clock();
  keep_months int := (SELECT value::int FROM aiplat.settings WHERE key = 'usage_retention_months');
  keep_days int := (SELECT value::int FROM aiplat.settings WHERE key = 'event_id_retention_days');
  horizon date := (date_trunc('month', now_ AT TIME ZONE 'UTC') - make_interval(months => keep_months))::date;
  part record;
BEGIN
  WITH r AS (
    UPDATE aiplat.organizations SET token_usage_current = 0,
           token_reset_date = aiplat.period_end('monthly', time_zone, now_)
     WHERE token_reset_date <= now_ RETURNING 1)
  SELECT count(*) INTO rolled_over FROM r;
  WITH r AS (
    UPDATE aiplat.quota_reservations SET status = 'expired', finished_at = now_
     WHERE status = 'active' AND expires_at <= now_ RETURNING 1)
  SELECT count(*) INTO reservations_expired FROM r;
  WITH r AS (
    DELETE FROM aiplat.ai_model_usage WHERE period_end < horizon::timestamp AT TIME ZONE 'UTC' RETURNING 1)
  SELECT count(*) INTO counters_pruned FROM r;
  WITH r AS (
    DELETE FROM aiplat.usage_event_ids WHERE recorded_at < now_ - make_interval(days => keep_days)
    RETURNING 1)
  SELECT count(*) INTO event_ids_pruned FROM r;
  /* Request counters matter for a day; a few days' are kept to look at. */
  DELETE FROM aiplat.request_counters WHERE day < (now_ AT TIME ZONE 'UTC')::date - 7;
  partitions_dropped := 0;
  FOR part IN
    SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = 'aiplat.usage_events'::regclass
       AND c.relname ~ '^usage_events_[0-9]{4}_[0-9]{2}$'
       AND to_date(substr(c.relname, 14), 'YYYY_MM') < horizon
  LOOP
    EXECUTE format('DROP TABLE aiplat.%I', part.relname);
    partitions_dropped := partitions_dropped + 1;
  END LOOP;
  partitions_created := 0;
  FOR i IN 0 .. 1 LOOP
    IF aiplat.ensure_usage_partition(((now_ AT TIME ZONE 'UTC')::date + make_interval(months => i))::date) THEN
      partitions_created := partitions_created + 1;
    END IF;
  END LOOP;
END
$$;
COMMENT ON FUNCTION aiplat.quota_housekeeping() IS
  'rolls over monthly counters, expires reservations, prunes past retention, creates partitions';

GRANT EXECUTE ON FUNCTION
  aiplat.quota_refs(text, text, text),
  aiplat.quota_admit(text, text, text, bigint, text, uuid, bigint, bigint, integer, text, interval,
                     timestamptz),
  aiplat.quota_finish(uuid, boolean, bigint, bigint, integer, text, text)
  TO aiplat_app;
REVOKE ALL ON FUNCTION aiplat.quota_housekeeping(), aiplat.quota_authorize(uuid, uuid, boolean)
  FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aiplat.quota_authorize(uuid, uuid, boolean) TO aiplat_app;

-- migrate:down
DROP FUNCTION aiplat.quota_housekeeping();
DROP FUNCTION aiplat.apply_usage_deltas();
DROP FUNCTION aiplat.quota_finish(uuid, boolean, bigint, bigint, integer, text, text);
DROP FUNCTION aiplat.quota_admit(text, text, text, bigint, text, uuid, bigint, bigint, integer, text,
                                 interval, timestamptz);
DROP FUNCTION aiplat.lock_org(uuid, timestamptz);
DROP FUNCTION aiplat.record_usage(aiplat.organizations, aiplat.ai_models_system, uuid, timestamptz,
                                  uuid, bigint, bigint, integer, text, text, uuid);
DROP FUNCTION aiplat.quota_authorize(uuid, uuid, boolean);
DROP FUNCTION aiplat.quota_refs(text, text, text);
DROP TYPE aiplat.quota_decision;
DROP FUNCTION aiplat.daily_request_limit(uuid);
DROP FUNCTION aiplat.effective_flag(uuid, text);
DROP TABLE aiplat.request_counters;
DROP FUNCTION aiplat.model_name(bigint);
DROP FUNCTION aiplat.member_user_id(uuid, text);
DROP TRIGGER organizations_delete_rollups ON aiplat.organizations;
DROP FUNCTION aiplat.delete_org_rollups();
DROP TABLE aiplat.usage_daily_models;
DROP TABLE aiplat.usage_daily;
DROP TRIGGER organizations_reset_date ON aiplat.organizations;
DROP FUNCTION aiplat.set_reset_date();
DELETE FROM aiplat.settings
 WHERE key IN ('usage_retention_months', 'event_id_retention_days', 'reservation_ttl_seconds');
