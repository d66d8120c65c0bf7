include $(sort $(wildcard $(BR2_EXTERNAL_HUSHBOX_PATH)/package/*/*.mk))
