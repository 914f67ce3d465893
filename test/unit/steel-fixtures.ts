/** Steel programs shared by the checker tests, the fuzz targets and the bench. */

// from /work/shared/seeds/002_403540d966554a9b.txt ("Basic Steel Program" and "Sensor Monitoring Program")
export const GUIDE_BLINK = `;; Simple LED blink program
(define (blink-program)
  (log "info" "Starting blink program")
  (led-on)
  (sleep 1)
  (led-off)
  (sleep 1)
  (log "info" "Blink complete"))

(blink-program)
`;
export const GUIDE_SENSOR_MONITORING = `;; Sensor monitoring with cloud reporting
(define (monitor-sensors)
  (let ((sensors (read-sensors)))
    (let ((temp (get sensors 'temperature))
          (humidity (get sensors 'humidity)))
      
      ;; Log readings
      (log "info" (format "Temp: ~a°C, Humidity: ~a%" temp humidity))
      
      ;; Send to cloud
      (mqtt-publish "sensors/data" (json-encode sensors))
      
      ;; Update device shadow
      (shadow-update "sensor-data" (json-encode sensors))
      
      ;; Check thresholds
      (when (> temp 30)
        (led-on)
        (mqtt-publish "alerts/temperature" 
                     (json-encode '((temperature . temp)
                                  (threshold . 30)
                                  (timestamp . (current-time))))))
      
      ;; Schedule next reading
      (set-timer "sensor-check" 60 monitor-sensors))))

;; Start monitoring
(monitor-sensors)
`;
