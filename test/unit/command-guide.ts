/**
 * The environmental monitoring guide's configurations and fleet file, written as YAML
 * (the TOML sections map one to one). From /work/shared/seeds/001_f784f9a6feef567d.txt,
 * "Environment-Specific Configuration" and "Device Fleet Management".
 */
export const DEV_CONFIG = {
  network: { wifi_ssid: 'DevNetwork', wifi_password: 'dev_password', mqtt_broker: 'localhost', mqtt_port: 1883, device_id_prefix: 'dev_esp32' },
  sensor: { bme280_address: 0x76, measurement_interval_seconds: 10, calibration_offset_temp: 0.0 },
  system: { log_level: 'debug', heartbeat_interval_minutes: 1, status_report_interval_minutes: 2 },
};

export const PROD_CONFIG = {
  network: { wifi_ssid: '${PROD_WIFI_SSID}', wifi_password: '${PROD_WIFI_PASSWORD}', mqtt_broker: '${PROD_MQTT_BROKER}', mqtt_port: 8883, device_id_prefix: 'prod_esp32', tls_enabled: true },
  sensor: { bme280_address: 0x76, measurement_interval_seconds: 300, calibration_offset_temp: 0.0 },
  system: { log_level: 'info', heartbeat_interval_minutes: 15, status_report_interval_minutes: 60, watchdog_timeout_seconds: 600 },
};

export const PROD_ENV = { PROD_WIFI_SSID: 'IoT_Production', PROD_WIFI_PASSWORD: 'correct horse battery', PROD_MQTT_BROKER: 'broker.example.com' };

/** The guide's fleet_config.yaml, verbatim. */
export const GUIDE_FLEET_YAML = `# fleet_config.yaml
fleet:
  name: "Environmental Monitoring Fleet"
  devices:
    - device_id: "env_001"
      location: "Building A - Room 101"
      ip_range: "192.168.10.10-20"
    - device_id: "env_002"
      location: "Building B - Room 201"  
      ip_range: "192.168.10.21-30"
      
  configuration:
    base_config: "production.toml"
    overrides:
      - device: "env_001"
        measurement_interval: 60
      - device: "env_002"
        measurement_interval: 300
`;

export const GUIDE_BASES: ReadonlyMap<string, unknown> = new Map([['production.toml', PROD_CONFIG]]);
