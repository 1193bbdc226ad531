from bench.env import BenchEnv
from tests.support import settings_env


def test_phase_settings_point_at_the_runs_own_database_and_topics():
    env = BenchEnv(admin_dsn="postgresql://ioc@127.0.0.1:5433/postgres", partitions=3)
    s = env.settings("single")
    assert s.dsn == f"postgresql://ioc@127.0.0.1:5433/ioc_bench_{env.run_id}"
    assert s.topic_prefix == f"bench{env.run_id}.single." and s.app_id == f"ioc-bench-{env.run_id}-single"
    assert s.topic_partitions == 3 and "ioc_bench_" not in repr(s)  # the URL stays a secret
    env_vars = settings_env(s, IOC_METRICS_PORT="1234")
    assert env_vars["IOC_DATABASE_URL"] == s.dsn and env_vars["IOC_METRICS_PORT"] == "1234"
