"""Sensor observations with FIWARE Smart Data Models names.

In FIWARE an entity's ``id`` is the station; here every message is one *observation*, so
``refDevice`` holds the station (the Kafka key and the entity) and ``id`` is unique per
observation.  Producers should build it from the station, the type and the time, e.g.
``wl-caibe-tachcau:WaterObserved:20261127T010000Z``, so a re-sent reading counts once.

Units: water levels in metres above the national height datum (Hòn Dấu), distances in metres,
salinity in ‰ (parts per thousand, g/kg; numerically close to PSU), temperature in °C,
turbidity in NTU, conductivity in S/m (FIWARE's unit), air pollutants in µg/m³ (CO too),
``airQualityIndex`` on the Vietnamese VN_AQI scale 0–500, precipitation in mm fallen since the
station's previous observation, ``relativeHumidity`` and ``batteryLevel`` as fractions 0–1,
wind speed in m/s.  Values outside physical ranges are refused.
"""
from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field, model_validator

from streams.core.contracts.base import Code, GeoPoint, Ratio, UtcDatetime
from streams.core.contracts.common import FeedEvent, Name


def _range(lo: float, hi: float, unit: str) -> object:
    return Annotated[float, Field(ge=lo, le=hi, description=unit)]


Level = _range(-20, 100, "m above the national height datum")
Distance = _range(0, 100, "m")
Salinity = _range(0, 50, "‰ (g/kg)")
WaterTemp = _range(-5, 50, "°C")
AirTemp = _range(-20, 60, "°C")
PH = _range(0, 14, "pH")
Turbidity = _range(0, 10_000, "NTU")
Conductivity = _range(0, 10, "S/m")
Pollutant = _range(0, 10_000, "µg/m³")
CarbonMonoxide = _range(0, 200_000, "µg/m³")
Precipitation = _range(0, 500, "mm since the previous observation")
WindSpeed = _range(0, 100, "m/s")
Direction = _range(0, 360, "degrees from north")
Pressure = _range(800, 1100, "hPa")
Flow = _range(0, 200_000, "m³/s")

FloodStatus = Literal["normal", "alert", "danger"]
DeviceState = Literal["ok", "low_battery", "fault", "maintenance"]


class Observation(FeedEvent):
    """Fields common to every sensor event."""

    key_field: ClassVar[str] = "refDevice"

    dateObserved: UtcDatetime
    location: GeoPoint
    refDevice: Code
    areaServed: Code | None = None
    name: Name | None = None

    #: an observation of this type needs at least one of these values
    measured: ClassVar[tuple[str, ...]] = ()

    @model_validator(mode="after")
    def _has_a_value(self) -> Observation:
        if self.measured and all(getattr(self, f) is None for f in self.measured):
            raise ValueError(f"needs at least one of {', '.join(self.measured)}")
        return self


class WaterObserved(Observation):
    type: Literal["WaterObserved"]
    waterLevel: Level
    flow: Flow | None = None


class FloodMonitoring(Observation):
    """A level sensor above the water: ``currentLevel = referenceLevel - measuredDistance``."""

    type: Literal["FloodMonitoring"]
    measuredDistance: Distance
    referenceLevel: Level
    currentLevel: Level
    alertLevel: Level
    dangerLevel: Level
    floodLevelStatus: FloodStatus

    @model_validator(mode="after")
    def _consistent(self) -> FloodMonitoring:
        if abs(self.referenceLevel - self.measuredDistance - self.currentLevel) > 0.011:
            raise ValueError("currentLevel must equal referenceLevel - measuredDistance (within 1 cm)")
        if self.dangerLevel < self.alertLevel:
            raise ValueError("dangerLevel is below alertLevel")
        return self


class WaterQualityObserved(Observation):
    measured: ClassVar[tuple[str, ...]] = ("salinity", "temperature", "pH", "turbidity", "conductivity")

    type: Literal["WaterQualityObserved"]
    salinity: Salinity | None = None
    temperature: WaterTemp | None = None
    pH: PH | None = None
    turbidity: Turbidity | None = None
    conductivity: Conductivity | None = None


class AirQualityObserved(Observation):
    measured: ClassVar[tuple[str, ...]] = ("pm25", "pm10", "no2", "so2", "o3", "co", "airQualityIndex")

    type: Literal["AirQualityObserved"]
    pm25: Pollutant | None = None
    pm10: Pollutant | None = None
    no2: Pollutant | None = None
    so2: Pollutant | None = None
    o3: Pollutant | None = None
    co: CarbonMonoxide | None = None
    airQualityIndex: Annotated[int, Field(ge=0, le=500, description="VN_AQI")] | None = None


class WeatherObserved(Observation):
    measured: ClassVar[tuple[str, ...]] = ("precipitation", "temperature", "relativeHumidity", "windSpeed")

    type: Literal["WeatherObserved"]
    precipitation: Precipitation | None = None
    temperature: AirTemp | None = None
    relativeHumidity: Ratio | None = None
    windSpeed: WindSpeed | None = None
    windDirection: Direction | None = None
    atmosphericPressure: Pressure | None = None


class Device(Observation):
    """A station's own state; ``refDevice`` is the station itself."""

    type: Literal["Device"]
    deviceState: DeviceState
    dateLastValueReported: UtcDatetime | None = None
    batteryLevel: Ratio | None = None

    @model_validator(mode="after")
    def _last_value(self) -> Device:
        if self.dateLastValueReported is not None and self.dateLastValueReported > self.dateObserved:
            raise ValueError("dateLastValueReported is after dateObserved")
        return self


SENSOR_MODELS = (WaterObserved, FloodMonitoring, WaterQualityObserved, AirQualityObserved, WeatherObserved, Device)
SensorEvent = Annotated[
    WaterObserved | FloodMonitoring | WaterQualityObserved | AirQualityObserved | WeatherObserved | Device,
    Field(discriminator="type"),
]


def flood_status(level: float, alert: float, danger: float) -> str:
    """``floodLevelStatus`` for a level: normal below alert, alert below danger, else danger."""
    return "danger" if level >= danger else "alert" if level >= alert else "normal"
