"""crmcore.satisfaction"""
