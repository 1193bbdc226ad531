"""The indicators' data files (plan targets, sensor rules): a bad one is a ``ConfigError`` naming the problem."""
import pytest

from agents.indicators.plan import load_plan
from agents.indicators.sensor_kpi import load_sensor_rules
from streams.core.errors import ConfigError


@pytest.mark.parametrize("name, text, load, match", [
    ("plan.yaml", "plan: x\nnumber: 1\nissued: 2022-12-30\nvalid_from: 2023-01-01\nvalid_to: 2023-12-31\ntargets:\n"
                  "  - {key: a, vi: a, en: a, value: 1, op: '<'}\n", load_plan, "op must be"),
    ("rules.yaml", "salinity: {alert: 1}\n", load_sensor_rules, "rules.yaml"),
])
def test_a_bad_file_is_a_config_error(tmp_path, name, text, load, match):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ConfigError, match=match):
        load(path)
