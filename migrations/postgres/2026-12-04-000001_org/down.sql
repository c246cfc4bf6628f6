DROP TABLE houses;
DROP TABLE units;
DROP TABLE buildings;
DROP TABLE estates;
DROP TABLE offices;
DROP TABLE company_settings;
